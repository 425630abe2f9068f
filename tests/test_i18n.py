import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from tests.conftest import csrf_token, login, page_text

ROOT = Path(__file__).resolve().parents[1]


def test_default_language_is_chinese(client):
    """Without any hint, pages are in Simplified Chinese (DEFAULT_LOCALE)."""
    response = client.get("/login")
    assert "登录" in page_text(response)
    assert 'lang="zh-CN"' in response.get_data(as_text=True)


def test_accept_language_english_gives_english(client):
    """A browser asking for English gets English."""
    text = page_text(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert "Sign in" in text
    assert "登录" not in text


def test_lang_parameter_is_remembered_in_the_session(client):
    """?lang=en switches to English and stays for later pages, over Accept-Language."""
    client.get("/login?lang=en")
    text = page_text(client.get("/login", headers={"Accept-Language": "zh-CN"}))
    assert "Sign in" in text


def test_unknown_lang_parameter_is_refused_with_a_message(client):
    """?lang=xx changes nothing and says which languages exist."""
    client.get("/login?lang=en")
    text = page_text(client.get("/login?lang=xx"))
    assert "That language is not available" in text
    assert "Sign in" in text  # still English


def test_user_setting_wins_over_browser_and_session(client, make_user):
    """A signed-in user's saved language beats ?lang= and Accept-Language."""
    login(client, make_user(locale="en"))
    client.get("/?lang=zh_CN")
    text = page_text(client.get("/", headers={"Accept-Language": "zh-CN"}))
    assert "My loans" in text


def test_switcher_saves_the_signed_in_user_setting(app, client, make_user):
    """Switching language while signed in updates the user's setting."""
    account = make_user(locale="zh_CN")
    login(client, account)
    response = client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    assert "My loans" in page_text(client.get("/"))
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.id == account.id)) == "en"


def test_switcher_refuses_unknown_language_and_missing_token(app, client, make_user):
    """An unknown code or a missing CSRF token changes no setting."""
    account = make_user(locale="zh_CN")
    login(client, account)
    client.post("/language", data={"lang": "fr", "csrf_token": csrf_token(client, "/")})
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.id == account.id)) == "zh_CN"


def test_money_and_dates_follow_the_locale(app):
    """¥12,345.50 in Chinese, CN¥12,345.50 in English; dates in each locale's form."""
    from datetime import date

    from flask_babel import force_locale, format_date

    from portal.templating import money

    with app.test_request_context("/"):
        with force_locale("zh_CN"):
            assert money(1_234_550, "CNY") == "¥12,345.50"
            assert format_date(date(2026, 12, 7), "medium") == "2026年12月7日"
        with force_locale("en"):
            assert money(1_234_550, "CNY") == "CN¥12,345.50"
            assert format_date(date(2026, 12, 7), "medium") == "Dec 7, 2026"


def _translated(string) -> bool:
    """A singular msgstr, or every plural form, is non-empty."""
    return bool(string) if isinstance(string, str) else all(string)


def test_catalogs_cover_every_message(tmp_path):
    """Every marked string is in both catalogs, and translated (not fuzzy) in Chinese."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    for locale in ("zh_Hans_CN", "en"):
        path = ROOT / "portal" / "translations" / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle)
        present = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
        assert sorted(wanted - present.keys()) == [], f"{locale} misses messages"
        if locale == "zh_Hans_CN":
            untranslated = [
                key for key in wanted if present[key].fuzzy or not _translated(present[key].string)
            ]
            assert untranslated == [], "untranslated Chinese messages"
