"""Default texts of the notices that tell a borrower their account went to, or came back from,
an outside collection agency: ``(subject, long, short)`` per (purpose, locale).

``default_templates`` installs them with every other default text; ``long`` is the portal notice
and email body, ``short`` the SMS body. Required notices carry no opt-out line.
"""

from __future__ import annotations

AGENCY_TEXTS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("agency_placed", "zh_CN"): (
        "您的借款已转交催收机构协助处理",
        "{{ borrower_name }}，您好：\n\n"
        "您的借款{{ loan_reference }}已于{{ placed_on }}转交{{ agency_name }}协助处理，"
        "对方可能会就这笔借款与您联系。\n\n"
        "您仍然可以随时登录Settle还款或申请还款计划。如有疑问，请联系我们。\n\n"
        "Settle客服",
        "【Settle】{{ borrower_name }}您好，您的借款{{ loan_reference }}已于{{ placed_on }}"
        "转交{{ agency_name }}协助处理。详情请登录Settle查看。",
    ),
    ("agency_placed", "en"): (
        "Your loan has been placed with a collection agency",
        "Dear {{ borrower_name }},\n\n"
        "On {{ placed_on }}, your loan {{ loan_reference }} was placed with "
        "{{ agency_name }}, an outside collection agency, which may contact you about it.\n\n"
        "You can still pay or ask about a repayment plan in your Settle account at any time. "
        "If you have questions, please contact us.\n\n"
        "Settle customer service",
        "Settle: Hi {{ borrower_name }}, on {{ placed_on }} your loan {{ loan_reference }} was "
        "placed with {{ agency_name }}. Details are in your Settle account.",
    ),
    ("agency_recalled", "zh_CN"): (
        "您的借款已由Settle收回处理",
        "{{ borrower_name }}，您好：\n\n"
        "自{{ recalled_on }}起，您的借款{{ loan_reference }}不再由{{ agency_name }}处理，"
        "改由Settle直接与您联系。\n\n"
        "如有疑问，请联系我们。\n\n"
        "Settle客服",
        "【Settle】{{ borrower_name }}您好，自{{ recalled_on }}起，您的借款{{ loan_reference }}"
        "不再由{{ agency_name }}处理，改由Settle直接与您联系。",
    ),
    ("agency_recalled", "en"): (
        "Your loan is back with Settle",
        "Dear {{ borrower_name }},\n\n"
        "From {{ recalled_on }}, your loan {{ loan_reference }} is no longer handled by "
        "{{ agency_name }}: Settle deals with it directly again.\n\n"
        "If you have questions, please contact us.\n\n"
        "Settle customer service",
        "Settle: Hi {{ borrower_name }}, from {{ recalled_on }} your loan {{ loan_reference }} "
        "is no longer handled by {{ agency_name }}; Settle deals with it directly again.",
    ),
}
