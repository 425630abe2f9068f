"""People who use the portal: borrowers and staff, and a borrower's contact details."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, enum_column
from portal.extensions import Model
from portal.timeutil import utcnow


class Role(enum.StrEnum):
    BORROWER = "borrower"
    AGENT = "agent"
    COLLECTOR = "collector"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.BORROWER


class Channel(enum.StrEnum):
    """Ways to reach a borrower; step 2 sends through each of them behind one interface."""

    PORTAL = "portal"
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"


class User(UserMixin, Model):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    name: Mapped[str] = mapped_column(String(120))
    # None means "no preference": the request decides (see portal/i18n.py).
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Copied into the session at sign-in; raising it ends every session the user has
    # (sign-out, password change, deactivation, "sign out everywhere"): portal/auth/sessions.py.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    borrower_profile: Mapped[BorrowerProfile | None] = relationship(
        back_populates="user", uselist=False
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class BorrowerProfile(Model):
    __tablename__ = "borrower_profile"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    customer_number: Mapped[str] = mapped_column(String(32), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # Read by the contact-rules guard: "cease contact" stops all but required notices, and a
    # borrower may be governed by another jurisdiction's rulebook than the lender's.
    cease_contact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    rulebook_code: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="borrower_profile")
    contact_preferences: Mapped[list[ContactPreference]] = relationship(
        back_populates="borrower",
        cascade="all, delete-orphan",
        order_by="ContactPreference.channel",
    )


class ContactPreference(Model):
    """Whether a borrower accepts contact on a channel (opt-in/opt-out, per channel)."""

    __tablename__ = "contact_preference"
    __table_args__ = (UniqueConstraint("borrower_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrower_profile.user_id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "contact_channel"))
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    borrower: Mapped[BorrowerProfile] = relationship(back_populates="contact_preferences")
