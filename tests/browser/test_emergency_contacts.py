import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_borrower_names_an_emergency_contact_after_a_phone_error_and_removes_it(
    live_server, page: Page
):
    """In Chinese: a number that is not a phone number is refused with the input kept; a
    mainland mobile typed without +86 is then accepted and listed in full; removed, it is gone."""
    page.goto(f"{live_server}/login")
    page.get_by_label("邮箱").fill("borrower@demo.test")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/settings/contact")
    page.get_by_role("link", name="管理紧急联系人").click()

    page.get_by_label("姓名").fill("李伟")
    page.get_by_label("手机号码").fill("137 0013")
    page.get_by_label("此人是您的").select_option("sibling")
    page.get_by_role("button", name="添加联系人").click()

    expect(page.get_by_test_id("field-error")).to_contain_text("请输入带国家代码的手机号码")
    expect(page.get_by_label("姓名")).to_have_value("李伟")
    expect(page.get_by_label("此人是您的")).to_have_value("sibling")
    page.get_by_label("手机号码").fill("137 0013 7000")
    page.get_by_role("button", name="添加联系人").click()

    expect(page.get_by_role("alert").first).to_contain_text("紧急联系人已保存")
    # The demo borrower already named a parent; the new contact is listed beside them.
    contacts = page.get_by_test_id("emergency-contact")
    expect(contacts).to_have_count(2)
    contact = contacts.filter(has_text="李伟")
    expect(contact).to_contain_text("兄弟姐妹 · +8613700137000")

    contact.get_by_role("button", name="删除").click()
    expect(contacts).to_have_count(1)
    contacts.first.get_by_role("button", name="删除").click()
    expect(page.get_by_test_id("emergency-contact")).to_have_count(0)
    expect(page.get_by_test_id("emergency-contacts")).to_contain_text("您尚未填写紧急联系人")
