"""A local fake of Shippo's API, answering what the `shippo` library (3.x) sends.

Shipments (`POST /shipments`, `GET /shipments/{id}`) with rates, transactions
(`POST /transactions` buying a rate as a PDF_4x6 label, with a QR code when the
shipment asked for one; `GET /transactions?rate=...`), refunds (`POST /refunds`), in
Shippo's object shapes; `Authorization: ShippoToken <key>`. Files from `/files/...`.
"""

from __future__ import annotations

from .fake_carrier import Call, FakeCarrier, Reply

DEFAULT_RATES = [
    ("USPS", "Priority Mail", "usps_priority", "7.40"),
    ("UPS", "Ground", "ups_ground", "9.00"),
    ("FedEx", "Ground", "fedex_ground", "6.10"),
]
CREATED = "2026-11-28T06:00:00Z"


class FakeShippo(FakeCarrier):
    routes = [
        ("POST", r"/shipments", "create", "create"),
        ("GET", r"/shipments/(?P<shipment_id>\w+)", "retrieve", "retrieve"),
        ("POST", r"/transactions", "buy", "buy"),
        ("GET", r"/transactions", "list_transactions", "list_transactions"),
        ("POST", r"/refunds", "refund", "refund"),
        ("GET", r"/files/(?P<name>[\w.-]+)", "file", "file"),
    ]

    def __init__(self, *, api_key: str = "shippo_test_key", rates=None):
        super().__init__(api_key=api_key)
        self.rates = list(rates if rates is not None else DEFAULT_RATES)
        self.shipments: dict[str, dict] = {}
        self.transactions: dict[str, dict] = {}
        self.purchases: list[str] = []
        self.refunds: list[str] = []

    def authorised(self, headers) -> bool:
        return headers.get("authorization") == f"ShippoToken {self.api_key}"

    @staticmethod
    def error_document(status: int, message: str) -> dict:
        return {"detail": message}

    @staticmethod
    def _address(params) -> dict:
        return {"object_id": "", "is_complete": True, **(params or {})}

    def create(self, call: Call):
        params = call.body or {}
        if not params.get("parcels") or "address_from" not in params:
            raise Reply(400, {"parcels": ["This field is required."]})
        number = len(self.shipments) + 1
        shipment_id = f"shipment{number:04d}"
        parcels = [
            {**parcel, "object_id": f"parcel{number:04d}", "object_state": "VALID"}
            for parcel in params["parcels"]
        ]
        shipment = {
            "object_id": shipment_id,
            "object_owner": "merchant@example.com",
            "object_created": CREATED,
            "object_updated": CREATED,
            "status": "SUCCESS",
            "metadata": params.get("metadata", ""),
            "address_from": self._address(params["address_from"]),
            "address_to": self._address(params["address_to"]),
            "carrier_accounts": [],
            "messages": [],
            "parcels": parcels,
            "extra": params.get("extra") or {},
            "test": True,
            "rates": [
                {
                    "object_id": f"rate{number:04d}{index}",
                    "object_owner": "merchant@example.com",
                    "object_created": CREATED,
                    "shipment": shipment_id,
                    "attributes": [],
                    "amount": amount,
                    "currency": "USD",
                    "amount_local": amount,
                    "currency_local": "USD",
                    "provider": provider,
                    "servicelevel": {"name": name, "token": token},
                    "carrier_account": f"account-{provider.lower()}",
                    "test": True,
                }
                for index, (provider, name, token, amount) in enumerate(self.rates)
            ],
        }
        self.shipments[shipment_id] = shipment
        return 201, shipment, "application/json"

    def retrieve(self, call: Call, shipment_id: str):
        if shipment_id not in self.shipments:
            raise Reply(404, {"detail": "Not found."})
        return 200, self.shipments[shipment_id], "application/json"

    def _rate(self, rate_id: str) -> tuple[dict, dict] | None:
        for shipment in self.shipments.values():
            for rate in shipment["rates"]:
                if rate["object_id"] == rate_id:
                    return shipment, rate
        return None

    def buy(self, call: Call):
        params = call.body or {}
        found = self._rate(params.get("rate", ""))
        if found is None:
            raise Reply(400, {"rate": ["Rate not found."]})
        shipment, rate = found
        self.purchases.append(rate["object_id"])
        number = len(self.purchases)
        transaction_id = f"transaction{number:04d}"
        transaction = {
            "object_id": transaction_id,
            "object_owner": "merchant@example.com",
            "object_created": CREATED,
            "object_updated": CREATED,
            "object_state": "VALID",
            # Always in Shippo's transactions (the library cannot read one without it).
            "created_by": {"first_name": "Shop", "last_name": "Owner", "username": "owner"},
            "status": "SUCCESS",
            "rate": {
                "object_id": rate["object_id"],
                "amount": rate["amount"],
                "currency": rate["currency"],
                "amount_local": rate["amount_local"],
                "currency_local": rate["currency_local"],
                "provider": rate["provider"],
                "servicelevel_name": rate["servicelevel"]["name"],
                "servicelevel_token": rate["servicelevel"]["token"],
                "carrier_account": rate["carrier_account"],
            },
            "tracking_number": f"9400{number:018d}",
            "tracking_status": "UNKNOWN",
            "label_url": f"{self.origin}/files/{transaction_id}.pdf",
            "label_file_type": params.get("label_file_type") or "PDF",
            "metadata": params.get("metadata", ""),
            "messages": [],
            "test": True,
        }
        if shipment["extra"].get("qr_code_requested"):
            transaction["qr_code_url"] = f"{self.origin}/files/{transaction_id}.png"
        self.transactions[transaction_id] = transaction
        return 201, transaction, "application/json"

    def list_transactions(self, call: Call):
        rate = (call.query.get("rate") or [""])[0]
        results = [
            t for t in self.transactions.values() if not rate or t["rate"]["object_id"] == rate
        ]
        return 200, {"next": None, "previous": None, "results": results}, "application/json"

    def refund(self, call: Call):
        transaction_id = (call.body or {}).get("transaction", "")
        transaction = self.transactions.get(transaction_id)
        if transaction is None or transaction["status"] != "SUCCESS":
            raise Reply(400, {"transaction": ["Transaction cannot be refunded."]})
        self.refunds.append(transaction_id)
        transaction["status"] = "REFUNDPENDING"
        refund = {
            "object_id": f"refund{len(self.refunds):04d}",
            "object_owner": "merchant@example.com",
            "object_created": CREATED,
            "object_updated": CREATED,
            "status": "QUEUED",
            "transaction": transaction_id,
            "test": True,
        }
        return 201, refund, "application/json"

    # Webhooks Shippo sends (tests post them to our endpoint).

    @staticmethod
    def track_updated(tracking_number: str, status: str, *, at: str, substatus: str = ""):
        """A `track_updated` webhook body as Shippo posts it."""
        current = {
            "object_id": f"status-{tracking_number}-{status}-{substatus}-{at}",
            "object_created": at,
            "object_updated": at,
            "status": status,
            "status_details": f"{status.title()} {substatus}".strip(),
            "status_date": at,
            "location": {"city": "Philadelphia", "state": "PA", "zip": "19103", "country": "US"},
        }
        if substatus:
            current["substatus"] = {"code": substatus, "text": substatus, "action_required": False}
        return {
            "event": "track_updated",
            "test": True,
            "data": {
                "carrier": "usps",
                "tracking_number": tracking_number,
                "tracking_status": current,
                "tracking_history": [current],
                "messages": [],
            },
        }
