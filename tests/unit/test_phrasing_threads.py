"""Word families are computed from several answering threads at once (one Streamlit server, many
clinicians): the result must not depend on what other threads are stemming."""

from __future__ import annotations

import itertools
import sys
import threading

from pipelines.answer import phrasing


def test_root_gives_the_same_family_whatever_other_threads_stem() -> None:
    words = ["".join(p) + suffix for p in itertools.product("bcdfgmprst", "aeiou", "lnrst", "aeiou")
             for suffix in ("ing", "ed", "ments", "ation")]  # 5,000 distinct, never cached before
    phrasing.root.cache_clear()
    expected = {w: phrasing.root(w) for w in words}  # one thread: nothing to tear
    phrasing.root.cache_clear()
    wrong: list[str] = []
    errors: list[str] = []

    def work(part: list[str]) -> None:
        for w in part:
            try:
                if phrasing.root(w) != expected[w]:
                    wrong.append(w)
            except Exception as exc:  # noqa: BLE001 - the shared stemmer's state torn by another thread
                errors.append(repr(exc))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to meet the race
    try:
        threads = [threading.Thread(target=work, args=(words[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
        phrasing.root.cache_clear()
    assert errors == [] and wrong == [], (errors[:3], wrong[:10])
