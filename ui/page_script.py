"""The chat page's two pieces of project-written browser code: phone-friendly CSS and the script
that brings a new answer into view and makes its citation links open their source.

Both strings are constants written here and nothing is ever formatted into them: no question,
passage or title reaches this code (the script finds its answer from its own position in the
page, and a citation link's target from the link's own `#source-…` fragment). Streamlit pins a chat page to the bottom while content arrives, so
after an answer the reader would see its tail (sources, actions) rather than its badge and lead;
the script moves the answer's top to the top of the view once the run has settled, and stops at
the first wheel, touch, key or click so it never fights the reader. A related question, asked
from the middle of the page, first goes back to the bottom (as the chat input does by itself), so
Streamlit follows the new question and its progress there until the answer is placed.
"""

from __future__ import annotations

import streamlit as st

# Tap targets of at least 44 px on narrow screens (WCAG 2.5.5). Inline citation links grow by
# padding, which enlarges their box and tap area without changing the line height of the text.
PHONE_CSS = """<style>
@media (max-width: 640px) {
  .stApp button, .stApp summary, .stApp a[data-testid^="stBaseLinkButton"],
  .stApp a[data-testid="stSidebarNavLink"] { min-height: 44px; }
  [data-testid="stFeedback"] button { min-width: 44px; }
  [data-testid="stChatMessage"] [data-testid="stMarkdownContainer"] a[href^="#source-"] {
    padding: 12px 4px;
  }
  /* The answer's action row on one line: icons only, the labels kept for screen readers and
     as each button's accessible name (visually hidden, not removed), popover chevrons dropped. */
  [class*="st-key-actions-"] { gap: 0.25rem; }
  [class*="st-key-actions-"] button { min-width: 44px; justify-content: center; }
  [class*="st-key-actions-"] button [data-testid="stMarkdownContainer"] {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
    white-space: nowrap;
  }
  [class*="st-key-actions-"] [data-testid="stPopoverButton"] div[aria-hidden="true"] {
    display: none;
  }
}
[data-testid="stChatMessage"] [data-testid="stMarkdownContainer"] a[href^="#source-"] {
  text-decoration: none; font-weight: 600;
}
</style>"""

# Runs once when the newest answer mounts. `place` puts the answer (with its question, when
# that is short) just below the header; it repeats until the page has been still for a while,
# because Streamlit may still be adding elements and scrolling to the bottom as it does.
ANSWER_SCRIPT = """<script>
(() => {
  const me = document.currentScript;
  const answer = me && me.closest('[data-testid="stChatMessage"]');
  const scrollerOf = (element) => {
    for (let e = element && element.parentElement; e && e !== document.body; e = e.parentElement) {
      const y = getComputedStyle(e).overflowY;
      if ((y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight) return e;
    }
    return document.scrollingElement;
  };
  if (!window.__guidelightPageHandlers) {
    window.__guidelightPageHandlers = true;
    // A link [n] in an answer opens source n (its expander's class is st-key-source-…-n).
    document.addEventListener('click', (event) => {
      const link = event.target.closest && event.target.closest('a[href^="#source-"]');
      if (!link) return;
      const box = document.querySelector('.st-key-' + CSS.escape(link.getAttribute('href').slice(1)));
      if (!box) return;
      event.preventDefault();
      const details = box.querySelector('details');
      if (details && !details.open) box.querySelector('summary').click();
      setTimeout(() => box.scrollIntoView({block: 'start', behavior: 'smooth'}), 50);
    }, true);
    // A related question asks from the middle of the page: go back to the bottom first, so that
    // Streamlit follows the new question and its progress there (the chat input does this itself).
    document.addEventListener('click', (event) => {
      if (!(event.target.closest && event.target.closest('[class*="st-key-related-"] button'))) return;
      const last = Array.from(document.querySelectorAll('[data-testid="stChatMessage"]')).pop();
      const scroller = scrollerOf(last);
      scroller.scrollTop = scroller.scrollHeight;
    }, true);
  }
  if (!answer) return;
  let stopped = false;
  const stop = () => { stopped = true; };
  for (const type of ['wheel', 'touchstart', 'keydown', 'pointerdown']) {
    window.addEventListener(type, stop, {once: true, passive: true, capture: true});
  }
  const target = () => {
    const messages = Array.from(document.querySelectorAll('[data-testid="stChatMessage"]'));
    const question = messages[messages.indexOf(answer) - 1];
    const asked = question && question.querySelector('[data-testid="stChatMessageAvatarUser"]');
    const height = asked ? answer.getBoundingClientRect().top - question.getBoundingClientRect().top : 0;
    return asked && height < innerHeight * 0.2 ? question : answer;
  };
  const header = () => {
    const bar = document.querySelector('[data-testid="stHeader"]');
    return bar ? Math.max(0, bar.getBoundingClientRect().bottom) : 0;
  };
  let still = 0, rounds = 0;
  const place = () => {
    if (stopped || !answer.isConnected || ++rounds > 400) return;
    const delta = target().getBoundingClientRect().top - header() - 8;
    const running = document.querySelector('[data-test-script-state="running"]');
    // Stillness counts only once the run has finished: when it finishes, Streamlit removes the
    // previous run's elements and may scroll to the bottom, so a page still while the script
    // was running is not yet settled.
    if (Math.abs(delta) > 2) { scrollerOf(answer).scrollTop += delta; still = 0; }
    else { still = running ? 0 : still + 1; }
    if (still < 12 || running) setTimeout(place, 50);
  };
  setTimeout(place, 50);
})();
</script>"""


def phone_styles() -> None:
    """The fixed phone CSS (Streamlit sends style-only HTML to the page's event container)."""
    st.html(PHONE_CSS)


def bring_answer_into_view() -> None:
    """Call inside the newest answer's chat message, after everything it renders."""
    st.html(ANSWER_SCRIPT, unsafe_allow_javascript=True)
