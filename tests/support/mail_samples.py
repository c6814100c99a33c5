"""One context per mail (and per case a mail words differently), as the activities pass them:
the look tests render every mail in both languages from these."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from models.contracts.license_activation import LicenseItem

AT = datetime(2027, 12, 5, 17, 8, tzinfo=UTC)
LINK = "https://activation.example.com/activate/sample-token"
SERVICE = LicenseItem(
    license_id="l1",
    product_code="endpoint-protection",
    product_name="Endpoint Protection",
    kind="service",
    units=50,
    credits=0,
    expires_on="2027-12-31",
    instance_id="i1",
)
CREDITS = LicenseItem(
    license_id="l2",
    product_code="xdr-credits",
    product_name="XDR Credits",
    kind="credits",
    units=0,
    credits=1000,
    expires_on="2027-12-31",
)
WHERE = {"i1": {"name": "Acme production", "region": "us", "console": "https://console.example/i1"}}

SAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    ("activation_link", "new", {"company_name": "Acme Corp", "items": [SERVICE, CREDITS],
                                "link": LINK, "expires_at": AT, "reminder": False}),
    ("activation_link", "reminder", {"company_name": "Acme Corp", "items": [SERVICE],
                                     "link": LINK, "expires_at": AT, "reminder": True}),
    ("email_verification", "activation", {"purpose": "activation", "link": LINK,
                                          "expires_at": AT,
                                          "about": "Acme Corp",
                                          "products": ["endpoint-protection", "xdr-credits"]}),
    ("activation_confirmed", "new", {"company_name": "Acme Corp", "items": [SERVICE, CREDITS],
                                     "instances": WHERE}),
    ("account_lookup", "primary", {"company": "A*** Corp", "consoles": [
        {"name": "", "product": "endpoint-protection", "region": "us",
         "url": "https://console.example/i1"}]}),
    ("account_lookup", "none", {"company": None, "consoles": []}),
    ("license_expiring", "service", {"company_name": "Acme Corp", "product_name":
                                     "Endpoint Protection", "kind": "service", "amount": 50,
                                     "expires_on": "2027-12-31", "days_left": 30,
                                     "trial": False}),
    ("license_expiring", "on_premises", {"company_name": "Acme Corp",
                                         "product_name": "Network Sensor", "kind": "on-premises",
                                         "amount": 25, "expires_on": "2027-12-31",
                                         "days_left": 7, "trial": False}),
    ("local_account_invitation", "new", {"company_name": "Acme Corp", "display_name": "Grace",
                                         "instance_label": "Acme production",
                                         "product_code": "endpoint-protection",
                                         "region_code": "us", "link": LINK,
                                         "expires_at": AT, "reminder": False}),
    ("license_certificate", "new", {"company_name": "Acme Corp", "link": LINK,
                                    "offline_page": "https://activation.example/offline-activation",
                                    "codes": [{"product": "network-sensor", "seats": 25,
                                               "expires_on": "2027-12-31",
                                               "code": "7KQ3M-X2HPT-9WEFA-RN4CD-VJ8GB"}]}),
    ("ownership_transfer_request", "new", {"company_name": "Acme Corp", "target_name": "Grace",
                                           "owner_email": "owner@acme.example", "link": LINK,
                                           "expires_at": AT}),
    ("ownership_transfer_outcome", "new_owner", {"company_name": "Acme Corp",
                                                 "outcome": "new_owner",
                                                 "owner_email": "owner@acme.example",
                                                 "target_email": "grace@acme.example",
                                                 "target_instance": "Acme production",
                                                 "target_product_code": "endpoint-protection",
                                                 "target_region": "us"}),
    ("primary_change_objection", "new", {"company_name": "Acme Corp", "link": LINK,
                                         "new_email": "new@acme.example",
                                         "objection_ends_at": AT}),
    ("primary_change_outcome", "new_primary", {"company_name": "Acme Corp",
                                               "outcome": "new_primary",
                                               "new_email": "new@acme.example"}),
    ("webhook_endpoint_disabled", "gone", {"brand_name": "Activation Service",
                                           "endpoint_id": "we_123", "reason": "gone",
                                           "url": "https://hooks.example.com/activation"}),
]  # fmt: skip
