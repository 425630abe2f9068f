"""Default message texts for every purpose, in Chinese and English, and installing them.

The texts are a starting point that admins edit as new template versions. They follow the same
rules as any template: only variables the purpose declares, every required variable on every
channel, and no prohibited wording (see ``content_check``). Tone: calm, plain and respectful;
no threats, no urgency, no legal claims.

Optional variables are used sparingly: Jinja's ``StrictUndefined`` fails a render for any
variable a template references but the caller does not pass. The defaults reference only
``pay_url`` and ``plans_url`` (in borrower notices) and the common ``borrower_name`` and
``portal_url``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.auth.models import Channel
from portal.messaging.purposes import PURPOSES
from portal.messaging.templates import latest_version, save_version

LOCALES = ("zh_CN", "en")
INSTALL_CHANNELS = (Channel.PORTAL, Channel.EMAIL, Channel.SMS)
OPT_OUT = {"zh_CN": "回复TD退订", "en": "Reply STOP to opt out."}


@dataclass(frozen=True)
class DefaultText:
    """``long`` is the portal notice and email body, ``short`` the SMS body."""

    subject: str
    long: str
    short: str


def _paragraphs(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


# The overdue amount, split, as a block of lines (one paragraph).
_ZH_AMOUNTS = (
    "逾期天数：{{ days_past_due }}天\n"
    "应还合计：{{ amount_overdue }}\n"
    "- 本金：{{ principal_overdue }}\n"
    "- 利息：{{ interest_overdue }}\n"
    "- 费用：{{ fees_overdue }}\n"
    "原到期日：{{ due_dates }}"
)
_EN_AMOUNTS = (
    "Days past due: {{ days_past_due }}\n"
    "Amount past due: {{ amount_overdue }}\n"
    "- Principal: {{ principal_overdue }}\n"
    "- Interest: {{ interest_overdue }}\n"
    "- Fees: {{ fees_overdue }}\n"
    "Original due date(s): {{ due_dates }}"
)
_ZH_SMS_AMOUNTS = (
    "应还{{ amount_overdue }}（本金{{ principal_overdue }}、利息{{ interest_overdue }}、"
    "费用{{ fees_overdue }}），原到期日{{ due_dates }}"
)
_EN_SMS_AMOUNTS = (
    "Days past due: {{ days_past_due }}. Amount: {{ amount_overdue }} (principal "
    "{{ principal_overdue }}, interest {{ interest_overdue }}, fees {{ fees_overdue }}), "
    "due {{ due_dates }}"
)

_ZH_HELLO = "{{ borrower_name }}，您好："
_EN_HELLO = "Dear {{ borrower_name }},"
_ZH_SIGN = "Settle客服"
_EN_SIGN = "Settle customer service"

DEFAULT_TEXTS: dict[tuple[str, str], DefaultText] = {
    # --- Reminders -------------------------------------------------------------------------
    ("pre_due_reminder", "zh_CN"): DefaultText(
        subject="还款日提醒",
        long=_paragraphs(
            _ZH_HELLO,
            "温馨提醒：您的借款{{ loan_reference }}有一期将于{{ due_date }}到期，"
            "本期应还金额为{{ amount_due }}。",
            "您可以在到期日前通过以下链接还款：{{ pay_url }}",
            "如果您已经还款，请忽略本提醒。如果您按时还款有困难，欢迎在到期日前联系我们，"
            "我们会和您一起看看有哪些办法。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，您的借款{{ loan_reference }}本期应还"
            "{{ amount_due }}，到期日{{ due_date }}。还款链接：{{ pay_url }} 已还请忽略。"
            + OPT_OUT["zh_CN"]
        ),
    ),
    ("pre_due_reminder", "en"): DefaultText(
        subject="Your payment is coming up",
        long=_paragraphs(
            _EN_HELLO,
            "This is a friendly reminder that a payment on your loan {{ loan_reference }} is due "
            "on {{ due_date }}. The amount due is {{ amount_due }}.",
            "You can pay before the due date here: {{ pay_url }}",
            "If you have already paid, please ignore this message. If you think you may have "
            "difficulty paying on time, please contact us before the due date and we will look "
            "at the options with you.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, a payment of {{ amount_due }} on loan "
            "{{ loan_reference }} is due on {{ due_date }}. Pay: {{ pay_url }} If you have "
            "already paid, please ignore this. " + OPT_OUT["en"]
        ),
    ),
    ("due_today", "zh_CN"): DefaultText(
        subject="今天是还款日",
        long=_paragraphs(
            _ZH_HELLO,
            "提醒您：今天是您的借款{{ loan_reference }}本期的还款日，应还金额为{{ amount_due }}。",
            "您可以通过以下链接还款：{{ pay_url }}",
            "如果您今天已经还款，请忽略本提醒。如果您还款有困难，请联系我们，"
            "我们可以一起商量合适的安排。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，今天是您的借款{{ loan_reference }}的还款日，"
            "应还{{ amount_due }}。还款链接：{{ pay_url }} 已还请忽略。" + OPT_OUT["zh_CN"]
        ),
    ),
    ("due_today", "en"): DefaultText(
        subject="Your payment is due today",
        long=_paragraphs(
            _EN_HELLO,
            "A payment of {{ amount_due }} on your loan {{ loan_reference }} is due today.",
            "You can pay here: {{ pay_url }}",
            "If you have already paid today, please ignore this message. If you are having "
            "difficulty paying, please contact us and we can talk about what might help.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, a payment of {{ amount_due }} on loan "
            "{{ loan_reference }} is due today. Pay: {{ pay_url }} If you have already paid, "
            "please ignore this. " + OPT_OUT["en"]
        ),
    ),
    # --- Overdue notices ---------------------------------------------------------------------
    ("overdue_stage_1", "zh_CN"): DefaultText(
        subject="逾期还款提醒",
        long=_paragraphs(
            _ZH_HELLO,
            "我们注意到，您的借款{{ loan_reference }}有一笔款项未按期归还，"
            "目前已逾期{{ days_past_due }}天。也许只是一时疏忽，特此提醒您。",
            _ZH_AMOUNTS,
            "您可以通过以下链接还款：{{ pay_url }}",
            "如果您目前还款有困难，可以在这里了解并申请还款计划：{{ plans_url }}",
            "接下来：如果款项仍未结清，我们会再次与您联系。如果您已经还款，请忽略本通知；"
            "如果您对金额有疑问，请联系我们核实。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，您的借款{{ loan_reference }}已逾期"
            "{{ days_past_due }}天，" + _ZH_SMS_AMOUNTS + "。请登录Settle还款，"
            "如有困难可申请还款计划。" + OPT_OUT["zh_CN"]
        ),
    ),
    ("overdue_stage_1", "en"): DefaultText(
        subject="A payment is past due",
        long=_paragraphs(
            _EN_HELLO,
            "We have noticed that a payment on your loan {{ loan_reference }} has not been "
            "received and is now past due. It may simply have been missed, so we are letting "
            "you know.",
            _EN_AMOUNTS,
            "You can pay here: {{ pay_url }}",
            "If you are having difficulty paying, you can ask about a repayment plan here: "
            "{{ plans_url }}",
            "What happens next: if the amount remains unpaid, we will contact you again. If you "
            "have already paid, please ignore this notice. If you think the amount is wrong, "
            "please contact us and we will check it.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, a payment on loan {{ loan_reference }} has not "
            "been received. " + _EN_SMS_AMOUNTS + ". Please pay in your Settle account, or ask "
            "us about a repayment plan. " + OPT_OUT["en"]
        ),
    ),
    ("overdue_stage_2", "zh_CN"): DefaultText(
        subject="您的款项仍未还清",
        long=_paragraphs(
            _ZH_HELLO,
            "我们此前已就您的借款{{ loan_reference }}与您联系。根据我们的记录，"
            "该笔款项目前仍未还清，已逾期{{ days_past_due }}天。"
            "请您归还以下款项，或与我们联系商量还款安排。",
            _ZH_AMOUNTS,
            "还款链接：{{ pay_url }}",
            "如果您暂时无法一次还清，请申请还款计划：{{ plans_url }}。越早与我们沟通，"
            "我们能提供的办法就越多。",
            "接下来：如果款项仍未结清，我们会再次与您联系。如果您已经还款，请忽略本通知；"
            "如果您对金额有疑问，请联系我们核实。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，借款{{ loan_reference }}仍未还清，已逾期"
            "{{ days_past_due }}天，" + _ZH_SMS_AMOUNTS + "。请登录Settle还款，"
            "或联系我们申请还款计划。" + OPT_OUT["zh_CN"]
        ),
    ),
    ("overdue_stage_2", "en"): DefaultText(
        subject="Your payment is still past due",
        long=_paragraphs(
            _EN_HELLO,
            "We wrote to you earlier about a payment on your loan {{ loan_reference }}. Our "
            "records show that it has still not been paid. Please pay the amount below, or "
            "contact us to agree on an arrangement.",
            _EN_AMOUNTS,
            "You can pay here: {{ pay_url }}",
            "If you cannot pay the full amount now, please ask about a repayment plan: "
            "{{ plans_url }}. The earlier we hear from you, the more options we can offer.",
            "What happens next: if the amount remains unpaid, we will contact you again. If you "
            "have already paid, please ignore this notice. If you think the amount is wrong, "
            "please contact us and we will check it.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, a payment on loan {{ loan_reference }} is still "
            "unpaid. " + _EN_SMS_AMOUNTS + ". Please pay in your Settle account, or contact us "
            "about a repayment plan. " + OPT_OUT["en"]
        ),
    ),
    ("overdue_stage_3", "zh_CN"): DefaultText(
        subject="关于您逾期款项的进一步通知",
        long=_paragraphs(
            _ZH_HELLO,
            "我们此前已就您的借款{{ loan_reference }}与您联系。根据我们的记录，"
            "该笔款项目前仍未还清，已逾期{{ days_past_due }}天。",
            _ZH_AMOUNTS,
            "接下来：如果款项仍未还清，且我们没有收到您的回复，您的借款账户可能会被转交进一步审核。"
            "在此之前，我们更希望与您一起找到可行的解决办法。",
            "还款链接：{{ pay_url }}",
            "如果您还款有困难，可以在这里申请还款计划：{{ plans_url }}，"
            "也可以直接联系我们说明您的情况。",
            "如果您已经还款，或认为金额有误，请联系我们核实。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，借款{{ loan_reference }}已逾期"
            "{{ days_past_due }}天，" + _ZH_SMS_AMOUNTS + "。如未还款也未联系我们，"
            "账户可能转交进一步审核；有困难可申请还款计划。" + OPT_OUT["zh_CN"]
        ),
    ),
    ("overdue_stage_3", "en"): DefaultText(
        subject="Further notice about your past-due payment",
        long=_paragraphs(
            _EN_HELLO,
            "We have written to you before about a payment on your loan {{ loan_reference }}. "
            "Our records show that it has still not been paid.",
            _EN_AMOUNTS,
            "What happens next: if the amount is not paid and we do not hear from you, your "
            "account may be referred for further review. Before that happens, we would much "
            "rather find a way forward with you.",
            "You can pay here: {{ pay_url }}",
            "If you are having difficulty, you can ask about a repayment plan here: "
            "{{ plans_url }}, or contact us to explain your situation.",
            "If you have already paid, or you think the amount is wrong, please contact us and "
            "we will check it.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, loan {{ loan_reference }} is still unpaid. "
            + _EN_SMS_AMOUNTS
            + ". If it stays unpaid, your account may be referred for further review; please "
            "contact us if you need a repayment plan. " + OPT_OUT["en"]
        ),
    ),
    ("lawyer_letter", "zh_CN"): DefaultText(
        subject="关于借款{{ loan_reference }}的律师函",
        long=_paragraphs(
            "{{ borrower_name }}：",
            "事由：借款{{ loan_reference }}",
            "我们作为上述借款出借方的委托律师，受其委托就上述借款事宜致函您。",
            "根据出借方的记录，该笔借款目前逾期未还金额为{{ amount_overdue }}，"
            "已逾期{{ days_past_due }}天。",
            "请您于{{ deadline_date }}前归还上述款项，或与出借方联系协商还款安排。"
            "您可以登录{{ portal_url }}查看借款详情并还款。",
            "如在上述日期前款项仍未归还，且未达成还款安排，出借方可能依法考虑后续处理方式。",
            "如您认为上述金额有误或对此有异议，请于{{ deadline_date }}前通过{{ portal_url }}"
            "告知，并提供相关材料。您也可以通过该平台提出投诉，或自行咨询独立的法律意见。",
            "特此函告。",
            "出借方委托律师",
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，出借方委托律师就借款{{ loan_reference }}向您致函："
            "该借款逾期{{ days_past_due }}天，逾期金额{{ amount_overdue }}，请于"
            "{{ deadline_date }}前还款或联系协商还款安排。详情请登录Settle查看，如有异议请告知。"
            + OPT_OUT["zh_CN"]
        ),
    ),
    ("lawyer_letter", "en"): DefaultText(
        subject="Letter about loan {{ loan_reference }}",
        long=_paragraphs(
            _EN_HELLO,
            "Re: Loan {{ loan_reference }}",
            "We write as legal counsel for the lender of the above loan, on its instructions.",
            "According to our client's records, {{ amount_overdue }} is past due on this loan "
            "and has been outstanding for {{ days_past_due }} days.",
            "We ask that you pay this amount, or contact our client to agree on a repayment "
            "arrangement, by {{ deadline_date }}. You can see the details of the loan and make "
            "a payment at {{ portal_url }}.",
            "If the amount is not paid and no arrangement is agreed by that date, our client "
            "may consider the further steps available to it under the law.",
            "If you believe the amount is not correct, or you wish to dispute it, please tell "
            "us through {{ portal_url }} before {{ deadline_date }}, with any supporting "
            "documents. You may also make a complaint there, and you are free to seek "
            "independent legal advice.",
            "Yours faithfully,",
            "Legal counsel for the lender",
        ),
        short=(
            "Settle: Dear {{ borrower_name }}, the lender's legal counsel has written to you "
            "about loan {{ loan_reference }}: {{ amount_overdue }} is {{ days_past_due }} days "
            "past due. Please pay, or contact us to agree on an arrangement, by "
            "{{ deadline_date }}. The letter is in your Settle account. " + OPT_OUT["en"]
        ),
    ),
    # --- Required notices (no opt-out line) ---------------------------------------------------
    ("payment_receipt", "zh_CN"): DefaultText(
        subject="已收到您的还款",
        long=_paragraphs(
            _ZH_HELLO,
            "谢谢！我们已于{{ paid_at }}收到您为借款{{ loan_reference }}支付的{{ amount_paid }}。",
            "该借款剩余待还金额：{{ outstanding }}",
            "您可以在{{ portal_url }}查看还款记录和还款计划。请保留本通知作为还款凭证。",
            "如果本凭证中有任何信息与您的记录不符，请联系我们。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，已收到您于{{ paid_at }}为借款{{ loan_reference }}"
            "支付的{{ amount_paid }}，谢谢！该借款剩余待还{{ outstanding }}。"
        ),
    ),
    ("payment_receipt", "en"): DefaultText(
        subject="We have received your payment",
        long=_paragraphs(
            _EN_HELLO,
            "Thank you. We received your payment of {{ amount_paid }} for loan "
            "{{ loan_reference }} on {{ paid_at }}.",
            "Remaining balance on this loan: {{ outstanding }}",
            "You can see your payments and your schedule at {{ portal_url }}. Please keep this "
            "message as your receipt.",
            "If anything in this receipt does not match your records, please contact us.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, thank you. We received your payment of "
            "{{ amount_paid }} for loan {{ loan_reference }} on {{ paid_at }}. Remaining "
            "balance: {{ outstanding }}."
        ),
    ),
    ("plan_confirmation", "zh_CN"): DefaultText(
        subject="您的还款计划已确认",
        long=_paragraphs(
            _ZH_HELLO,
            "您的借款{{ loan_reference }}的还款计划已经确认，内容如下：",
            "{{ plan_summary }}",
            "请保留本通知。您可以在{{ portal_url }}查看还款计划和每期的还款日期。",
            "如果您的情况发生变化，某一期还款有困难，请在还款日前联系我们，我们会和您一起看看。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，您的借款{{ loan_reference }}的还款计划已确认："
            "{{ plan_summary }}。详情请登录Settle查看。"
        ),
    ),
    ("plan_confirmation", "en"): DefaultText(
        subject="Your repayment plan is confirmed",
        long=_paragraphs(
            _EN_HELLO,
            "Your repayment plan for loan {{ loan_reference }} is confirmed. Here is a summary:",
            "{{ plan_summary }}",
            "Please keep this message for your records. You can see the plan and each payment "
            "date at {{ portal_url }}.",
            "If your situation changes and a payment becomes difficult, please contact us "
            "before the payment date and we will look at it with you.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, your repayment plan for loan {{ loan_reference }} "
            "is confirmed: {{ plan_summary }}. You can see the details in your Settle account."
        ),
    ),
    ("complaint_acknowledgement", "zh_CN"): DefaultText(
        subject="我们已收到您的投诉",
        long=_paragraphs(
            _ZH_HELLO,
            "感谢您告诉我们您的意见。我们已收到您的投诉，编号为{{ complaint_reference }}。"
            "如就此事联系我们，请提供这个编号。",
            "我们会认真核查，并在{{ response_due_date }}前答复您。",
            "如需补充信息，您可以在{{ portal_url }}提交。",
            _ZH_SIGN,
        ),
        short=(
            "【Settle】{{ borrower_name }}您好，我们已收到您的投诉，编号{{ complaint_reference }}，"
            "将在{{ response_due_date }}前答复您。"
        ),
    ),
    ("complaint_acknowledgement", "en"): DefaultText(
        subject="We have received your complaint",
        long=_paragraphs(
            _EN_HELLO,
            "Thank you for telling us about your concern. We have received your complaint and "
            "given it the reference {{ complaint_reference }}. Please quote this reference if "
            "you contact us about it.",
            "We will look into it carefully and reply to you by {{ response_due_date }}.",
            "If you would like to add information, you can do so at {{ portal_url }}.",
            _EN_SIGN,
        ),
        short=(
            "Settle: Hi {{ borrower_name }}, we have received your complaint (reference "
            "{{ complaint_reference }}) and will reply by {{ response_due_date }}."
        ),
    ),
    # --- Emergency contact: never a word about the reason -------------------------------------
    ("third_party_locate", "zh_CN"): DefaultText(
        subject="",
        long="",  # text message only
        short=(
            "{{ contact_name }}您好，这里是Settle客服。方便时请您转告{{ borrower_name }}"
            "与Settle客服联系。您无需做其他事情。如您不认识此人，请忽略本短信，谢谢。"
            + OPT_OUT["zh_CN"]
        ),
    ),
    ("third_party_locate", "en"): DefaultText(
        subject="",
        long="",  # text message only
        short=(
            "Hello {{ contact_name }}, this is Settle customer service. When convenient, could "
            "you please ask {{ borrower_name }} to get in touch with Settle customer service? "
            "You do not need to do anything else. If you do not know this person, please "
            "ignore this message. Thank you. " + OPT_OUT["en"]
        ),
    ),
}


def channels_for(purpose_code: str) -> tuple[Channel, ...]:
    """The channels a default is installed on: third-party messages go by text message only."""
    if PURPOSES[purpose_code].third_party:
        return (Channel.SMS,)
    return INSTALL_CHANNELS


def default_for(purpose_code: str, channel: Channel, locale: str) -> tuple[str, str]:
    """The (subject, body_text) of the default template for one purpose, channel and locale."""
    text = DEFAULT_TEXTS[(purpose_code, locale)]
    if channel is Channel.SMS:
        return "", text.short
    return text.subject, text.long


def install_default_templates(*, now: datetime, actor_id: int | None = None) -> int:
    """Save the default text wherever no template exists yet; returns how many were created.

    Idempotent: an existing template (default or edited by an admin) is never touched. Flushes
    only; the caller commits.
    """
    created = 0
    for purpose_code in PURPOSES:
        for locale in LOCALES:
            for channel in channels_for(purpose_code):
                if latest_version(purpose_code, channel, locale) is not None:
                    continue
                subject, body_text = default_for(purpose_code, channel, locale)
                save_version(
                    purpose_code=purpose_code,
                    channel=channel,
                    locale=locale,
                    subject=subject,
                    body_text=body_text,
                    body_html=None,
                    actor_id=actor_id,
                    now=now,
                )
                created += 1
    return created
