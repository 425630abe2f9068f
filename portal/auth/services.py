"""Accounts and authentication: password hashing, sign-in checks, user creation."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from portal.audit.services import record as audit
from portal.auth.models import BorrowerProfile, Channel, ContactPreference, Role, User
from portal.auth.sessions import end_all_sessions
from portal.domain import NotFound
from portal.extensions import db

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("settle-timing-equaliser")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(email: str, password: str, *, now: datetime) -> User | None:
    """The active user with this email and password, or None (never says which part was wrong).

    Upgrades the stored hash when the hashing parameters have changed; flushes, caller commits.
    """
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    stored_hash = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password and end every session signed in with the old one."""
    user.password_hash = hash_password(password)
    end_all_sessions(user)


def deactivate_user(user: User) -> None:
    """Refuse the account from now on: no sign-in, and its open sessions end."""
    user.is_active_account = False
    end_all_sessions(user)


def sign_out_everywhere(
    user_id: int, *, actor_id: int, now: datetime, ip_address: str | None
) -> User:
    """End every session of user ``user_id`` (for oneself or by an admin), audited as
    ``auth.sessions_ended``. Raises NotFound for an unknown id; flushes, caller commits."""
    user = user_by_id(user_id)
    if user is None:
        raise NotFound()
    end_all_sessions(user)
    audit(
        "auth.sessions_ended",
        now=now,
        actor_id=actor_id,
        object_type="user",
        object_id=user.id,
        ip_address=ip_address,
    )
    return user


def user_by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(
    *,
    email: str,
    password: str | None = None,
    password_hash: str | None = None,
    role: Role,
    name: str,
    timezone: str,
    locale: str | None = None,
    phone: str | None = None,
    customer_number: str | None = None,
) -> User:
    """Create a user; borrowers also get a profile and a preference for every channel.

    Give ``password`` (hashed here) or an already computed ``password_hash``.
    """
    if (password is None) == (password_hash is None):
        raise ValueError("give exactly one of password and password_hash")
    user = User(
        email=normalize_email(email),
        password_hash=password_hash or hash_password(password or ""),
        role=role,
        name=name,
        timezone=timezone,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    if role is Role.BORROWER:
        profile = BorrowerProfile(
            user_id=user.id,
            customer_number=customer_number or f"C{user.id:08d}",
            phone=phone,
            contact_preferences=[ContactPreference(channel=channel) for channel in Channel],
        )
        db.session.add(profile)
        db.session.flush()
    return user
