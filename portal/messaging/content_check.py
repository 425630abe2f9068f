"""Prohibited language: threats, insults, false legal claims, disclosure to third parties.

Built-in word lists per locale, extended by admins (``ProhibitedTerm``). The check runs when a
template is saved and on every rendered message before it is queued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from portal.extensions import db
from portal.messaging.models import ProhibitedTerm

CATEGORIES = ("threat", "insult", "false_legal_claim", "third_party_disclosure")

BUILT_IN_TERMS: dict[str, dict[str, tuple[str, ...]]] = {
    "zh_CN": {
        "threat": ("坐牢", "抓你", "上门", "曝光", "弄死", "后果自负", "让你好看", "爆通讯录"),
        "insult": ("骗子", "老赖", "无赖", "废物", "不要脸"),
        "false_legal_claim": ("刑事责任", "已立案", "法院传票", "通缉", "拘留", "判刑"),
        "third_party_disclosure": ("通知你的家人", "告诉你的朋友", "联系你的单位", "通知你的同事"),
    },
    "en": {
        "threat": (
            "jail",
            "arrest",
            "prison",
            "you will regret",
            "seize your",
            "come to your home",
        ),
        "insult": ("deadbeat", "liar", "scammer", "loser"),
        "false_legal_claim": (
            "criminal charges",
            "warrant",
            "police",
            "court summons",
            "lawsuit has been filed",
        ),
        "third_party_disclosure": (
            "tell your family",
            "contact your employer",
            "inform your friends",
            "your neighbours will know",
        ),
    },
}
# A message to an emergency contact may not hint at a debt at all.
DEBT_WORDS: dict[str, tuple[str, ...]] = {
    "zh_CN": ("欠款", "逾期", "借款", "贷款", "还款", "债务", "催收", "欠钱"),
    "en": ("debt", "loan", "overdue", "owe", "repay", "collection", "arrears"),
}


@dataclass(frozen=True)
class Violation:
    term: str
    category: str


def _contains(text: str, term: str, locale: str) -> bool:
    if locale == "en":  # whole words, any case: "police" yes, "policy" no
        return re.search(rf"\b{re.escape(term)}\b", text, flags=re.IGNORECASE) is not None
    return term in text


def terms_for(locale: str) -> list[tuple[str, str]]:
    """Built-in and admin-added terms for a locale, as (term, category)."""
    built_in = [
        (term, category)
        for category, terms in BUILT_IN_TERMS.get(locale, {}).items()
        for term in terms
    ]
    added = db.session.execute(
        select(ProhibitedTerm.term, ProhibitedTerm.category).where(ProhibitedTerm.locale == locale)
    ).all()
    return built_in + [(row.term, row.category) for row in added]


def find_violations(
    text: str, locale: str, *, third_party: bool = False, terms: list[tuple[str, str]] | None = None
) -> list[Violation]:
    found = [
        Violation(term, category)
        for term, category in (terms if terms is not None else terms_for(locale))
        if _contains(text, term, locale)
    ]
    if third_party:
        found += [
            Violation(word, "third_party_disclosure")
            for word in DEBT_WORDS.get(locale, ())
            if _contains(text, word, locale)
        ]
    return found
