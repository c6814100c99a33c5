"""The words of the customer's pages, in English and Traditional Chinese (docs/pages.md).
One page is in one language: the flow's, unless the customer chose another."""

from __future__ import annotations

from typing import Any

LOCALES = ("en", "zh-TW")
LANGUAGE_NAMES = {"en": "English", "zh-TW": "繁體中文"}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "activate.title": "Activate your products",
        "activate.intro": "Check what {company} is about to activate before you continue.",
        "company": "Company",
        "item": "Item",
        "units": "Units",
        "credits": "Credits",
        "expires": "Expires on",
        "credit_balance": "Credit balance",
        "current_balance": "Current balance",
        "new_balance": "New balance after activation",
        "link_valid_until": "This Activation Link works until {moment}.",
        "email.title": "Enter your email address",
        "email.hint": "We send a verification email to this address. If it already signs in to "
        "an account, that account is used; otherwise we create one for {company}.",
        "email.label": "Email address",
        "email.error": "Enter an email address in the form name@example.com",
        "send": "Send verification email",
        "verifying.title": "Verifying your email",
        "verifying.sent": "We sent a verification email to {email}. Open it and press "
        "“Confirm email address” to continue.",
        "verifying.spam": "It usually arrives within 5 minutes. Check your spam folder too.",
        "resend": "Send the email again",
        "resend.wait": "You can ask for a new email from {moment}.",
        "resend.none": "No more emails can be sent for this address.",
        "change": "Use a different email address",
        "agreements.title": "Accept the agreements",
        "agreements.intro": "Read each agreement, then confirm that you accept it.",
        "agreements.accept": "I have read and accept the {title} (version {version})",
        "agreements.read": "Read the {title}",
        "agreements.error": "Accept every agreement to continue",
        "continue": "Continue",
        "instance.title": "Choose the instance for {product}",
        "instance.intro": "{product} is added to one of your product instances.",
        "instance.new": "created by this order",
        "instance.error": "Choose an instance",
        "progress.title": "Activating your products",
        "progress.text": "This takes a few seconds. This page updates by itself.",
        "progress.refresh": "Check again",
        "done.title": "Your products are active",
        "done.text": "{company} can now use everything below.",
        "done.instance": "Instance",
        "signin": "Sign in to the console",
        "problem": "Something needs your attention",
        "dead.expired.title": "This Activation Link has expired",
        "dead.expired.text": "Ask your reseller or sales contact to send a new Activation Link.",
        "dead.invalid.title": "This link does not work",
        "dead.invalid.text": "Open the newest “Activate Now” email you received, and use its "
        "button. Links can be mistyped when copied by hand.",
        "dead.cancelled.title": "This order was withdrawn",
        "dead.cancelled.text": "Nothing was activated. Ask your sales contact about the order.",
        "dead.failed.title": "The activation could not be completed",
        "dead.failed.text": "Nothing was activated; all changes were undone.",
        "dead.session.title": "Open your Activation Link again",
        "dead.session.text": "This page needs the link from your “Activate Now” email. Open it "
        "again from the email.",
        "dead.form.title": "Please try again",
        "dead.form.text": "The page was open for too long or came from elsewhere. Go back to your "
        "activation and repeat the last step.",
        "support": "Need help? Contact {support}.",
        "back": "Back to your activation",
        "language": "Language",
        "error_summary": "There is a problem",
    },
    "zh-TW": {
        "activate.title": "啟用您的產品",
        "activate.intro": "繼續之前，請確認 {company} 即將啟用的內容。",
        "company": "公司名稱",
        "item": "項目",
        "units": "授權數量",
        "credits": "點數",
        "expires": "到期日",
        "credit_balance": "點數餘額",
        "current_balance": "目前餘額",
        "new_balance": "啟用後的新餘額",
        "link_valid_until": "此啟用連結的有效期限至 {moment}。",
        "email.title": "請輸入您的電子郵件地址",
        "email.hint": "我們會寄送驗證信至此地址。若此地址已是帳號，將使用該帳號登入；"
        "否則會為 {company} 建立新帳號。",
        "email.label": "電子郵件地址",
        "email.error": "請輸入有效的電子郵件地址，例如 name@example.com",
        "send": "寄送驗證信",
        "verifying.title": "正在驗證您的電子郵件",
        "verifying.sent": "我們已寄送驗證信至 {email}。"
        "請開啟信件並點選「確認電子郵件地址」以繼續。",
        "verifying.spam": "驗證信通常會在五分鐘內送達，也請確認垃圾郵件匣。",
        "resend": "重新寄送驗證信",
        "resend.wait": "您可於 {moment} 之後要求重新寄送。",
        "resend.none": "此地址已無法再寄送驗證信。",
        "change": "使用其他電子郵件地址",
        "agreements.title": "同意授權條款",
        "agreements.intro": "請閱讀各項條款，並確認您同意。",
        "agreements.accept": "我已閱讀並同意{title}（版本 {version}）",
        "agreements.read": "閱讀{title}",
        "agreements.error": "請同意所有條款以繼續",
        "continue": "繼續",
        "instance.title": "選擇 {product} 的產品實例",
        "instance.intro": "{product} 將加入您的其中一個產品實例。",
        "instance.new": "由此訂單建立",
        "instance.error": "請選擇一個產品實例",
        "progress.title": "正在啟用您的產品",
        "progress.text": "這需要幾秒鐘，此頁面會自動更新。",
        "progress.refresh": "重新整理",
        "done.title": "您的產品已啟用",
        "done.text": "{company} 現在可以使用以下項目。",
        "done.instance": "產品實例",
        "signin": "登入主控台",
        "problem": "需要您的處理",
        "dead.expired.title": "此啟用連結已過期",
        "dead.expired.text": "請聯絡經銷商或業務窗口重新寄送啟用連結。",
        "dead.invalid.title": "此連結無法使用",
        "dead.invalid.text": "請開啟您最新收到的「Activate Now」信件，並點選其中的按鈕。"
        "手動複製的連結可能有誤。",
        "dead.cancelled.title": "此訂單已撤回",
        "dead.cancelled.text": "沒有任何項目被啟用。請洽詢您的業務窗口。",
        "dead.failed.title": "無法完成啟用",
        "dead.failed.text": "沒有任何項目被啟用，所有變更均已復原。",
        "dead.session.title": "請重新開啟您的啟用連結",
        "dead.session.text": "此頁面需要「Activate Now」信件中的連結，請從信件重新開啟。",
        "dead.form.title": "請再試一次",
        "dead.form.text": "頁面開啟過久或來源不明。請回到啟用頁面並重複上一步。",
        "support": "需要協助？請聯絡 {support}。",
        "back": "回到啟用頁面",
        "language": "語言",
        "error_summary": "發生問題",
    },
}


def text(locale: str, key: str, **values: Any) -> str:
    words = TEXT.get(locale, TEXT["en"]).get(key) or TEXT["en"][key]
    return words.format(**values) if values else words


def locale_of(requested: str | None, accept_language: str | None, default: str) -> str:
    """The customer's choice, else the flow's locale, else what the browser asks for."""
    if requested in LOCALES:
        return requested
    if default in LOCALES:
        return default
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh") and tag not in ("zh-cn", "zh-sg", "zh-hans"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
    return "en"
