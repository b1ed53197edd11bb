"""Admin sign-in: argon2 password check, lockout with backoff, signed expiring sessions.

Why it is built this way:
- The password hash comes from settings (`GUIDELIGHT_ADMIN_PASSWORD_HASH`); there is never a
  built-in default, so a fresh install has no admin until someone runs
  `python -m pipelines hash-password` and configures the result.
- argon2's verify is constant-time and slow by design; an unknown user name is verified against
  a dummy hash so timing does not reveal which names exist.
- Failures are counted in the records store, so a lockout holds across reruns, browser sessions
  and processes.
- A signed-in admin holds an opaque token: HMAC over user, expiry and a nonce with a secret made
  per process. Session state can be forged by anyone who can run code in the page, a token
  cannot, so the page trusts only `Authenticator.validate(token)`. Services that change the
  library take an `AdminSession`, which only this module mints, and check it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines.store import Store

FIRST_RUN_HELP = (
    "No admin password is configured, so the admin page is closed. To open it, create a hash "
    "with `python -m pipelines hash-password` (it asks for the password and prints a "
    "`GUIDELIGHT_ADMIN_PASSWORD_HASH='...'` line), put that line in `.env` (or export it, or set "
    "`admin_password_hash` in `.streamlit/secrets.toml`) and restart the app. There is no "
    "default password."
)
MAX_LOCK_S = 3600.0
_MINT = object()  # only this module can construct an AdminSession


class NotAuthorised(PermissionError):
    """A library-changing service was called without a valid admin session."""


def hash_password(password: str) -> str:
    """An argon2id hash to put in `admin_password_hash`."""
    if len(password) < 8:
        raise ValueError("Use a password of at least 8 characters.")
    return PasswordHasher().hash(password)


@dataclass(frozen=True)
class AdminSession:
    """Proof of a valid sign-in. Construct only through `Authenticator`."""

    user: str
    expires_at: float
    token: str
    _mint: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._mint is not _MINT:
            raise NotAuthorised("Admin sessions are issued only by signing in.")


@dataclass(frozen=True)
class SignInResult:
    """The outcome of one sign-in attempt, with what the page should say."""

    session: AdminSession | None
    message: str
    locked_for_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.session is not None


class Authenticator:
    """Checks passwords, counts failures, issues and validates admin sessions."""

    def __init__(self, settings: object, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.user = getattr(settings, "admin_user", "admin")
        self.password_hash: str | None = getattr(settings, "admin_password_hash", None) or None
        self.timeout_s = float(getattr(settings, "session_timeout_min", 30)) * 60
        self.lockout_after = int(getattr(settings, "lockout_after", 5))
        self.lockout_base_s = float(getattr(settings, "lockout_base_s", 30.0))
        self.store = store
        self.clock = clock
        self._secret = secrets.token_bytes(32)
        self._revoked: dict[str, float] = {}  # token → expiry; pruned once the token expires
        self._hasher = PasswordHasher()
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.password_hash)

    # Sign-in -----------------------------------------------------------------------------
    def sign_in(self, user: str, password: str) -> SignInResult:
        """Check a user name and password; counts failures and enforces the lockout."""
        if not self.configured:
            return SignInResult(None, FIRST_RUN_HELP)
        user = (user or "").strip()[:100]
        with self._lock:
            remaining = self.locked_for(user)
            if remaining > 0:
                self.store.log(user or "?", "sign-in", "admin", "locked", f"{remaining:.0f} s left")
                return SignInResult(None, self._locked_message(remaining), remaining)
            if self._verify(user, password):
                self.store.set_login_state(user, 0, None, None)
                self.store.log(user, "sign-in", "admin", "ok")
                return SignInResult(self._mint(user), f"Signed in as {user}.")
            locked_for = self._record_failure(user)
        self.store.log(user or "?", "sign-in", "admin", "failed",
                       f"locked for {locked_for:.0f} s" if locked_for else "wrong user name or password")
        if locked_for:
            return SignInResult(None, self._locked_message(locked_for), locked_for)
        return SignInResult(None, "Wrong user name or password.")

    def _verify(self, user: str, password: str) -> bool:
        """argon2 verify (constant-time); an unknown user is checked against a dummy hash."""
        known = hmac.compare_digest(user.encode(), self.user.encode())
        target = self.password_hash if known else self._dummy_hash
        try:
            return self._hasher.verify(target, password or "") and known
        except VerifyMismatchError:
            return False
        except (InvalidHashError, VerificationError):
            return False

    def locked_for(self, user: str) -> float:
        """Seconds until `user` may try again (0 when not locked)."""
        state = self.store.login_state(user)
        until = state.get("locked_until") or 0.0
        return max(0.0, until - self.clock())

    def _record_failure(self, user: str) -> float:
        """Count one failure; from `lockout_after` on, lock for base × 2^(extra failures)."""
        failures = int(self.store.login_state(user).get("failures") or 0) + 1
        lock_s = 0.0
        if failures >= self.lockout_after:
            lock_s = min(MAX_LOCK_S, self.lockout_base_s * 2 ** (failures - self.lockout_after))
        now = self.clock()
        self.store.set_login_state(user, failures, now + lock_s if lock_s else None, now)
        return lock_s

    @staticmethod
    def _locked_message(seconds: float) -> str:
        return (f"Too many failed sign-ins: try again in {seconds:.0f} s. Each further failure "
                "doubles the wait.")

    # Sessions ----------------------------------------------------------------------------
    def _mint(self, user: str) -> AdminSession:
        expires = self.clock() + self.timeout_s
        body = f"{user}|{expires:.3f}|{secrets.token_hex(8)}"
        signature = hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()
        token = base64.urlsafe_b64encode(f"{body}|{signature}".encode()).decode()
        return AdminSession(user, expires, token, _MINT)

    def _genuine(self, token: object) -> tuple[str, float] | None:
        """(user, expiry) of a token this process signed and nobody revoked, else None."""
        if not isinstance(token, str) or not token or token in self._revoked:
            return None
        try:
            user, expires, nonce, signature = base64.urlsafe_b64decode(token.encode()).decode().split("|")
            expires_at = float(expires)
        except (ValueError, UnicodeDecodeError):
            return None
        expected = hmac.new(self._secret, f"{user}|{expires}|{nonce}".encode(), hashlib.sha256).hexdigest()
        return (user, expires_at) if hmac.compare_digest(signature, expected) else None

    def validate(self, token: object) -> AdminSession | None:
        """The session a token stands for, or None if forged, revoked or expired."""
        found = self._genuine(token)
        if found is None or found[1] <= self.clock():
            return None
        return AdminSession(found[0], found[1], str(token), _MINT)

    def expired(self, token: object) -> bool:
        """True for a genuine token whose time ran out (the page says so, then signs out)."""
        found = self._genuine(token)
        return found is not None and found[1] <= self.clock()

    def renew(self, session: AdminSession) -> AdminSession:
        """A fresh token for an active admin (the timeout counts from the last action)."""
        self.require(session)
        self._revoke(session)
        return self._mint(session.user)

    def _revoke(self, session: AdminSession) -> None:
        now = self.clock()
        with self._lock:
            for token in [t for t, until in self._revoked.items() if until <= now]:
                del self._revoked[token]
            self._revoked[session.token] = session.expires_at

    def sign_out(self, session: AdminSession | None, reason: str = "signed out") -> None:
        if session is None:
            return
        self._revoke(session)
        self.store.log(session.user, "sign-out", "admin", "ok", reason)

    def require(self, session: object) -> AdminSession:
        """The session itself if it is valid now; raises `NotAuthorised` (and audits) otherwise."""
        valid = self.validate(session.token) if isinstance(session, AdminSession) else None
        if valid is not None and valid.user == session.user:
            return valid
        self.store.log("anonymous", "refused", "admin service", "refused", "no valid admin session")
        raise NotAuthorised("Sign in as an admin to do this.")
