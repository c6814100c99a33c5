"""The customer's pages and mails in English (core/words.py)."""

EN: dict[str, str] = {
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
    "email.lapsed": "The address {email} could not be confirmed in time (the email expired or "
    "was used too often). Send a new email there, or enter another address below.",
    "email.again_button": "Send a new email to {email}",
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
    "dead.unavailable.title": "Please try again in a few minutes",
    "dead.unavailable.text": "We can't continue right now. Nothing you have done is lost.",
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
    "certificate.title": "License certificate",
    "certificate.button": "View and print the certificate",
    "certificate.intro": "Licenses for on-premises products issued to {company}. Enter each "
    "Activation Code in the installed product to activate it; no account is needed.",
    "certificate.product": "Product",
    "certificate.seats": "Seats",
    "certificate.until": "Valid until",
    "certificate.code": "Activation Code",
    "certificate.status.expired": "Term ended",
    "certificate.status.revoked": "Withdrawn",
    "certificate.print": "Print",
    "certificate.offline": "No connection where the product runs? Use the offline activation "
    "page on another computer.",
    "certificate.private": "Keep the codes private: whoever holds one can use its seats.",
    "offline.stale": "The page was open for too long. Enter the request again.",
    "offline.title": "Activate without a connection",
    "offline.intro": "Where the product has no connection, it shows an activation request: "
    "its Activation Code and the installation's fingerprint. Enter them here, or upload the "
    "request file, then load the license file you download into the product.",
    "offline.code": "Activation Code",
    "offline.code.hint": "25 characters, as on your certificate; dashes and spaces do not matter.",
    "offline.fingerprint": "Installation fingerprint",
    "offline.fingerprint.hint": "As the product shows it.",
    "offline.file": "Or upload the activation request file",
    "offline.button": "Get the license file",
    "offline.ready.title": "Your license file is ready",
    "offline.ready.text": "Load it into the installation {fingerprint}. It is valid until "
    "{until}; after a renewal, repeat this step.",
    "offline.download": "Download the license file",
    "offline.again": "Activate another installation",
    "offline.error.code": "Check the Activation Code: a character is missing or mistyped",
    "offline.error.fingerprint": "Enter the fingerprint as the product shows it",
    "offline.error.file": "This file is not an activation request",
    "error.activation_code_not_found": "No Activation Code matches. Compare it with your "
    "license certificate.",
    "error.activation_code_expired": "This Activation Code's term has ended. Ask your vendor "
    "about a renewal.",
    "error.activation_code_revoked": "This Activation Code was withdrawn. Contact support.",
    "error.no_seat_left": "Every seat of this Activation Code is in use. Deactivate an "
    "installation you no longer use, or ask your vendor for more seats.",
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
    "why.license_certificate": "You received this email because this address is the contact "
    "of an order placed for your company.",
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
}
