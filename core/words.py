"""The words of the customer's pages and mails, in English and Traditional Chinese: one
vocabulary per language (docs/pages.md).
One page is in one language: the flow's, unless the customer chose another."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

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
        "lookup.title": "Do you already have an account?",
        "lookup.intro": "Enter your email address. We email it whether it is the primary account "
        "of a company, and how to sign in or to create one.",
        "lookup.button": "Email me the answer",
        "lookup.again": "The page was open for too long. Enter your address again.",
        "lookup.busy": "Too many questions came from your network. Try again in {minutes} min.",
        "lookup.sent.title": "Check your inbox",
        "lookup.sent.text": "If the address you entered can receive mail, the answer is on its "
        "way to it.",
        "error.too_many_requests": "Too many addresses were tried with this link. Try again in "
        "{minutes} min.",
        "error.resend_cooldown": "We have just sent an email. You can send one to another "
        "address in {minutes} min.",
        "error.resend_limit_reached": "No more emails can be sent for this activation. Contact "
        "support to continue.",
        "error.mail_rate_limited": "This address has received too many emails in the last hour. "
        "Try again in {minutes} min, or use another address.",
        "error.no_instance_for_addon": "This address signs in to a company that has no product "
        "instance for the add-on. Use the address of the account that owns the instance.",
        "error.other": "This could not be done just now. Wait a moment and try again.",
        "send": "Send verification email",
        "email.again": "The address could not be confirmed in time (the email expired or was "
        "used too often). Enter it again, or use another one.",
        "verifying.title": "Verifying your email",
        "verifying.sent": "We sent a verification email to {email} {ago} ({clock}). Open it "
        "and press “Confirm email address” to continue.",
        "verifying.notice": "A new verification email is on its way to {email}. The link in "
        "any earlier one no longer works.",
        "verifying.spam": "It usually arrives within 5 minutes. Check your spam folder too.",
        "verifying.updates": "This page updates by itself once the address is confirmed.",
        "resend": "Send the email again",
        "resend.wait": "You can ask for a new email {wait} ({clock}).",
        "resend.none": "No more emails can be sent for this address.",
        "change": "Use a different email address",
        "change.hint": "Mistyped the address? Enter it again: we send the email there at once, "
        "and the link in the earlier one stops working.",
        "cancel": "Back",
        "ago.now": "just now",
        "ago.minutes": "{n} min ago",
        "in.now": "in less than a minute",
        "in.minutes": "in {n} min",
        "and": " and ",
        "agreement.version": "Version {version}",
        "activate.button": "Activate Now",
        "title.quoted": "{title}",
        "agreements.missing": "Accept the {titles} to continue",
        "agreement.missing": "Tick this box to accept the {title}",
        "agreements.title": "Accept the agreements",
        "agreements.intro": "Read each agreement, then confirm that you accept it.",
        "agreements.accept": "I have read and accept the {title} (version {version})",
        "agreements.read": "Read the {title}",
        "continue": "Continue",
        "instance.title": "Choose the instance for {product}",
        "instance.intro": "{product} is added to one of your product instances.",
        "instance.new": "created by this order",
        "region": "region",
        "instance.error": "Choose an instance",
        "progress.title": "Activating your products",
        "progress.text": "This takes a few seconds. This page updates by itself.",
        "progress.setting_up": (
            "Setting up your instance. This can take a few minutes; this page updates by itself."
        ),
        "progress.refresh": "Check again",
        "done.title": "Your products are active",
        "done.text": "{company} can now use everything below.",
        "done.instance": "Instance",
        "item.trial": "trial",
        "item.renewal": "renews your license, same instance",
        "item.conversion": "your trial, now paid for: same instance",
        "signin": "Sign in to the console",
        "console.open": "Open the console: {name}",
        "problem": "Something needs your attention",
        "dead.expired.title": "This Activation Link has expired",
        "dead.expired.text": "Ask your reseller or sales contact to send a new Activation Link.",
        "dead.invalid.title": "This link does not work",
        "dead.invalid.text": "Open the newest Activation Link email you received, and use its "
        "“Activate Now” button. Links can be mistyped when copied by hand.",
        "dead.cancelled.title": "This order was withdrawn",
        "dead.cancelled.text": "Nothing was activated. Ask your sales contact about the order.",
        "dead.failed.title": "The activation could not be completed",
        "dead.failed.text": "Nothing was activated; all changes were undone.",
        "dead.session.title": "Open your Activation Link again",
        "dead.session.text": "This page needs the “Activate Now” button of your Activation Link "
        "email. Open it again from the email.",
        "dead.form.title": "Please try again",
        "dead.form.text": "The page was open for too long or came from elsewhere. Go back to your "
        "activation and repeat the last step.",
        "support": "Need help? Contact {support}.",
        "back": "Back to your activation",
        "language": "Language",
        "error_summary": "There is a problem",
        "invite.title": "Activate your account",
        "invite.text": "{company} invites {email} to use {instance}.",
        "invite.button": "Activate my account",
        "invite.done.title": "Your account is active",
        "invite.done.text": "You can now sign in to {instance}.",
        "transfer.title": "Become the owner of {company}",
        "transfer.text": "You are offered the ownership of {company}. If you accept, {email} "
        "becomes its primary account, and the current owner keeps access as a local account.",
        "transfer.accept": "Accept",
        "transfer.decline": "Decline",
        "transfer.accepted.title": "You are now the owner",
        "transfer.accepted.text": "Sign in with {email} to manage {company}.",
        "transfer.declined.title": "Offer declined",
        "transfer.declined.text": "Nothing changed. The current owner is told.",
        "transfer.choose": "Choose Accept or Decline.",
        "closed.title": "This link can no longer be used",
        "closed.text": "This {what} is {status}. Ask the person who sent it if you need a new one.",
        "what.invitation": "invitation",
        "what.transfer": "offer",
        "what.change": "change of the primary account",
        "status.completed": "done already",
        "change.title": "Stop the change of your primary account?",
        "change.text": "Support was asked to make {email} the primary account of {company} in "
        "place of your address. If you did not ask for this, stop it before {moment}, then "
        "contact {support}.",
        "change.button": "Stop the change",
        "change.stopped.title": "The change is stopped",
        "change.stopped.text": "Your address stays the primary account of {company}. Nothing "
        "else changed. Contact {support} if somebody asked for this in your name.",
        "status.lapsed": "expired",
        "status.cancelled": "withdrawn",
        "status.refused": "withdrawn",
        "status.expired": "expired",
        "status.failed": "not possible any more",
        "verify.title": "Confirm your email address",
        "verify.text": "Press the button to confirm that {email} is yours.",
        "verify.button": "Confirm email address",
        "verify.done.title": "Email address confirmed",
        "verify.done.text": "Thank you. You can close this page and continue where you started.",
        "verify.activation": "Continue your activation",
        "verify.expired.title": "This link has expired",
        "verify.expired.text": "Ask for a new verification email where you started.",
        "verify.locked.title": "This verification is locked",
        "verify.done.activation.text": "Your activation goes on by itself in the window where you "
        "started it. On another device? Open your Activation Link email there and press its "
        "“Activate Now” button.",
        "verify.locked.text": "Too many attempts with old or mistyped links failed, so this email "
        "no longer works. Go back to where you started and enter your address again.",
        "verify.locked.activation.text": "Too many attempts with old or mistyped links failed, "
        "so this email no longer works. Go back to your activation and enter your address "
        "again: we send you a new email.",
        "link.invalid.title": "This link does not work",
        "link.invalid.text": "Open the newest email you received and use its button. Links can "
        "be mistyped when copied by hand.",
        "mail.support": "Questions? Contact {support}.",
        "why.account_lookup": "You received this email because someone asked on {brand}'s "
        "page whether this address has an account.",
        "why.activation_confirmed": "You received this email because you activated licenses "
        "for your company with {brand}.",
        "why.activation_link": "You received this email because this address is the contact "
        "of an order placed for your company.",
        "why.email_verification": "You received this email because this address was entered "
        "to be verified with {brand}.",
        "why.license_expiring": "You received this email because this address manages your "
        "company's licenses with {brand}.",
        "why.local_account_invitation": "You received this email because the owner of a "
        "company's account invited this address.",
        "why.ownership_transfer_outcome": "You received this email because you took part in a "
        "change of a company's owner.",
        "why.ownership_transfer_request": "You received this email because the owner of a "
        "company's account offered the ownership to this address.",
        "why.primary_change_objection": "You received this email because this address is the "
        "primary account of a company, and support was asked to change that.",
        "why.primary_change_outcome": "You received this email because the primary account of "
        "your company changed, or a change was stopped.",
        "why.webhook_endpoint_disabled": "You received this email because this address is an "
        "operator of this {brand} service.",
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
        "lookup.title": "您是否已有帳號？",
        "lookup.intro": "請輸入您的電子郵件地址。我們會寄信告訴您此地址是否為某公司的主要帳號，"
        "以及如何登入或建立帳號。",
        "lookup.button": "寄送查詢結果",
        "lookup.again": "頁面開啟過久，請重新輸入您的電子郵件地址。",
        "lookup.busy": "您的網路送出的查詢過多，請於 {minutes} 分鐘後再試。",
        "lookup.sent.title": "請查看您的收件匣",
        "lookup.sent.text": "若您輸入的地址可以收信，查詢結果已寄送至該地址。",
        "error.too_many_requests": "此連結已嘗試過多個地址，請於 {minutes} 分鐘後再試。",
        "error.resend_cooldown": "我們剛寄出一封信。{minutes} 分鐘後才能改寄到其他地址。",
        "error.resend_limit_reached": "此啟用已無法再寄送信件，請聯絡客服繼續。",
        "error.mail_rate_limited": "此地址在過去一小時內收到的信件過多。請於 {minutes} 分鐘後再試，"
        "或改用其他地址。",
        "error.no_instance_for_addon": "此地址登入的公司沒有可加購的產品執行個體。"
        "請使用擁有該執行個體之帳戶的地址。",
        "error.other": "目前無法完成此操作，請稍候再試。",
        "send": "寄送驗證信",
        "email.again": "電子郵件地址未能及時完成驗證（驗證信已過期或嘗試次數過多）。"
        "請重新輸入，或使用其他地址。",
        "verifying.title": "正在驗證您的電子郵件",
        "verifying.sent": "我們{ago}（{clock}）寄了一封驗證信到 {email}。"
        "請開啟信件並點選「驗證電子郵件地址」以繼續。",
        "verifying.notice": "新的驗證信正寄往 {email}。先前信件中的連結已失效。",
        "verifying.spam": "驗證信通常會在五分鐘內送達，也請確認垃圾郵件匣。",
        "verifying.updates": "地址驗證完成後，此頁面會自動更新。",
        "resend": "重新寄送驗證信",
        "resend.wait": "{wait}（{clock}）即可要求重新寄送。",
        "resend.none": "此地址已無法再寄送驗證信。",
        "change": "使用其他電子郵件地址",
        "change.hint": "地址輸入錯誤嗎？請重新輸入，我們會立即寄信至新地址，"
        "先前信件中的連結將失效。",
        "cancel": "返回",
        "ago.now": "剛剛",
        "ago.minutes": "{n} 分鐘前",
        "in.now": "不到一分鐘後",
        "in.minutes": "{n} 分鐘後",
        "and": "及",
        "agreement.version": "版本 {version}",
        "activate.button": "立即啟用",
        "title.quoted": "《{title}》",
        "agreements.missing": "請同意{titles}以繼續",
        "agreement.missing": "請勾選此項以同意《{title}》",
        "agreements.title": "同意授權條款",
        "agreements.intro": "請閱讀各項條款，並確認您同意。",
        "agreements.accept": "我已閱讀並同意《{title}》（版本 {version}）",
        "agreements.read": "閱讀《{title}》",
        "continue": "繼續",
        "instance.title": "選擇 {product} 的執行個體",
        "instance.intro": "{product} 將加入您的其中一個執行個體。",
        "instance.new": "由此訂單建立",
        "region": "區域",
        "instance.error": "請選擇一個執行個體",
        "progress.title": "正在啟用您的產品",
        "progress.text": "這需要幾秒鐘，此頁面會自動更新。",
        "progress.setting_up": "正在設定您的執行個體，可能需要幾分鐘；此頁面會自動更新。",
        "progress.refresh": "重新整理",
        "done.title": "您的產品已啟用",
        "done.text": "{company} 現在可以使用以下項目。",
        "done.instance": "執行個體",
        "item.trial": "試用",
        "item.renewal": "續約，沿用同一個執行個體",
        "item.conversion": "試用轉為正式授權，沿用同一個執行個體",
        "signin": "登入主控台",
        "console.open": "開啟主控台：{name}",
        "problem": "需要您的處理",
        "dead.expired.title": "此啟用連結已過期",
        "dead.expired.text": "請聯絡經銷商或業務窗口重新寄送啟用連結。",
        "dead.invalid.title": "此連結無法使用",
        "dead.invalid.text": "請開啟您最新收到的啟用連結信件，並點選其中的「立即啟用」按鈕。"
        "手動複製的連結可能有誤。",
        "dead.cancelled.title": "此訂單已撤回",
        "dead.cancelled.text": "沒有任何項目被啟用。請洽詢您的業務窗口。",
        "dead.failed.title": "無法完成啟用",
        "dead.failed.text": "沒有任何項目被啟用，所有變更均已復原。",
        "dead.session.title": "請重新開啟您的啟用連結",
        "dead.session.text": "此頁面需要啟用連結信件中的「立即啟用」按鈕，請從信件重新開啟。",
        "dead.form.title": "請再試一次",
        "dead.form.text": "頁面開啟過久或來源不明。請回到啟用頁面並重複上一步。",
        "support": "需要協助？請聯絡 {support}。",
        "back": "回到啟用頁面",
        "language": "語言",
        "error_summary": "發生問題",
        "invite.title": "啟用您的帳號",
        "invite.text": "{company} 邀請 {email} 使用 {instance}。",
        "invite.button": "啟用我的帳號",
        "invite.done.title": "您的帳號已啟用",
        "invite.done.text": "您現在可以登入 {instance}。",
        "transfer.title": "成為 {company} 的擁有者",
        "transfer.text": "您受邀成為 {company} 的擁有者。接受後，{email} 將成為主要帳號，"
        "目前的擁有者將保留本機帳號的存取權。",
        "transfer.accept": "接受",
        "transfer.decline": "拒絕",
        "transfer.accepted.title": "您現在是擁有者",
        "transfer.accepted.text": "請以 {email} 登入以管理 {company}。",
        "transfer.declined.title": "已拒絕",
        "transfer.declined.text": "沒有任何變更，目前的擁有者會收到通知。",
        "transfer.choose": "請選擇接受或拒絕。",
        "closed.title": "此連結已無法使用",
        "closed.text": "此{what}{status}。如需新的連結，請聯絡寄件者。",
        "what.invitation": "邀請",
        "what.transfer": "轉移",
        "what.change": "主要帳號變更",
        "status.completed": "已完成",
        "change.title": "要停止變更您的主要帳號嗎？",
        "change.text": "客服收到請求，要將 {company} 的主要帳號由您的地址改為 {email}。若這不是您的"
        "請求，請於 {moment} 前停止變更，並聯絡 {support}。",
        "change.button": "停止變更",
        "change.stopped.title": "變更已停止",
        "change.stopped.text": "您的地址仍是 {company} 的主要帳號，其他一切均未變更。"
        "若有人冒用您的名義提出請求，請聯絡 {support}。",
        "status.lapsed": "已過期",
        "status.cancelled": "已撤回",
        "status.refused": "已撤回",
        "status.expired": "已過期",
        "status.failed": "已無法完成",
        "verify.title": "驗證您的電子郵件地址",
        "verify.text": "請按下按鈕，驗證 {email} 是您的地址。",
        "verify.button": "驗證電子郵件地址",
        "verify.done.title": "電子郵件地址已驗證",
        "verify.done.text": "謝謝。您可以關閉此頁面，回到原本的步驟繼續。",
        "verify.activation": "繼續啟用",
        "verify.expired.title": "此連結已過期",
        "verify.expired.text": "請回到原本的步驟要求新的驗證信。",
        "verify.locked.title": "此驗證已鎖定",
        "verify.done.activation.text": "您開始啟用的視窗會自動繼續下一步。若在其他裝置上，"
        "請在該裝置開啟「立即啟用」信件並點選其中的按鈕。",
        "verify.locked.text": "使用舊的或錯誤連結的失敗次數過多，此信件已無法使用。"
        "請回到原本的步驟重新輸入您的電子郵件地址。",
        "verify.locked.activation.text": "使用舊的或錯誤連結的失敗次數過多，此信件已無法使用。"
        "請回到啟用頁面重新輸入您的電子郵件地址，我們會寄送新的信件。",
        "link.invalid.title": "此連結無法使用",
        "link.invalid.text": "請開啟您最新收到的信件，並點選其中的按鈕。手動複製的連結可能有誤。",
        "mail.support": "有任何問題，請聯絡 {support}。",
        "why.account_lookup": "您收到此信，是因為有人在 {brand} 的頁面上查詢此地址是否已有帳號。",
        "why.activation_confirmed": "您收到此信，是因為您透過 {brand} 為公司啟用了授權。",
        "why.activation_link": "您收到此信，是因為此地址是您公司一筆訂單的聯絡人。",
        "why.email_verification": "您收到此信，是因為有人在 {brand} 輸入此地址以進行驗證。",
        "why.license_expiring": "您收到此信，是因為此地址管理您公司在 {brand} 的授權。",
        "why.local_account_invitation": "您收到此信，是因為某公司帳號的擁有者邀請了此地址。",
        "why.ownership_transfer_outcome": "您收到此信，是因為您參與了公司擁有者的變更。",
        "why.ownership_transfer_request": "您收到此信，是因為某公司帳號的擁有者提議將擁有權"
        "轉移給此地址。",
        "why.primary_change_objection": "您收到此信，是因為此地址是某公司的主要帳號，"
        "而客服收到變更此帳號的請求。",
        "why.primary_change_outcome": "您收到此信，是因為您公司的主要帳號已變更，或變更已停止。",
        "why.webhook_endpoint_disabled": "您收到此信，是因為此地址是此 {brand} 服務的管理員。",
    },
}


def text(locale: str, key: str, **values: Any) -> str:
    words = TEXT.get(locale, TEXT["en"]).get(key) or TEXT["en"][key]
    return words.format(**values) if values else words


def html_text(locale: str, key: str, **values: Any) -> Markup:
    """The words for a page: the values are escaped, unless they are markup themselves (a
    `<time>` element)."""
    words = TEXT.get(locale, TEXT["en"]).get(key) or TEXT["en"][key]
    return Markup(words).format(**values)


def ago(locale: str, seconds: float) -> str:
    """How long ago, as a person says it: "just now", "3 min ago"."""
    minutes = int(seconds // 60)
    return text(locale, "ago.minutes", n=minutes) if minutes else text(locale, "ago.now")


def within(locale: str, seconds: float) -> str:
    """How long until, rounded up: "in less than a minute", "in 2 min"."""
    if seconds < 60:
        return text(locale, "in.now")
    return text(locale, "in.minutes", n=-(-int(seconds) // 60))


def refusal_text(locale: str, code: str, retry_after: str | None) -> str:
    """A flow's refusal in the customer's words and language (its own message is for operators
    and integrators): when to try again, in minutes."""
    key = f"error.{code}" if f"error.{code}" in TEXT["en"] else "error.other"
    minutes = -(-int(retry_after or 60) // 60)
    return text(locale, key, minutes=minutes)


def listed(locale: str, names: list[str]) -> str:
    """Names in a sentence: "A, B and C"; 「A、B 及 C」."""
    if len(names) < 2:
        return "".join(names)
    last = text(locale, "and")
    separator = "、" if locale == "zh-TW" else ", "
    return f"{separator.join(names[:-1])}{last}{names[-1]}"


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
