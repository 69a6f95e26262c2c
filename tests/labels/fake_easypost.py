"""A local fake of EasyPost's API (v2), answering what the `easypost` library sends.

Shipments (`POST /v2/shipments` with `{"shipment": {...}}`, `GET /v2/shipments/{id}`),
buying (`POST /v2/shipments/{id}/buy` with `{"rate": {"id": ...}}`) and refunds
(`POST /v2/shipments/{id}/refund`), with EasyPost's object shapes and error bodies
(`{"error": {"code", "message", "errors"}}`); bearer-key authentication. Label PDFs are
served from `/files/...`. Every purchase and refund is counted.
"""

from __future__ import annotations

from .fake_carrier import Call, FakeCarrier, Reply

DEFAULT_RATES = [
    ("USPS", "Priority", "7.50"),
    ("UPS", "Ground", "9.10"),
    ("FedEx", "FEDEX_GROUND", "6.20"),
    ("USPS", "Express", "25.00"),
]


class FakeEasyPost(FakeCarrier):
    api_prefix = "/v2"
    routes = [
        ("POST", r"/v2/shipments", "create", "create"),
        ("GET", r"/v2/shipments/(?P<shipment_id>shp_\w+)", "retrieve", "retrieve"),
        ("POST", r"/v2/shipments/(?P<shipment_id>shp_\w+)/buy", "buy", "buy"),
        ("POST", r"/v2/shipments/(?P<shipment_id>shp_\w+)/refund", "refund", "refund"),
        ("GET", r"/files/(?P<name>[\w.-]+)", "file", "file"),
    ]

    def __init__(self, *, api_key: str = "ep-test-key", rates=None):
        super().__init__(api_key=api_key)
        self.rates = list(rates if rates is not None else DEFAULT_RATES)
        self.shipments: dict[str, dict] = {}
        self.purchases: list[str] = []
        self.refunds: list[str] = []

    def authorised(self, headers) -> bool:
        return headers.get("authorization") == f"Bearer {self.api_key}"

    @staticmethod
    def error_document(status: int, message: str) -> dict:
        return {"error": {"code": f"HTTP.{status}", "message": message, "errors": []}}

    def create(self, call: Call):
        params = (call.body or {}).get("shipment")
        if not isinstance(params, dict) or "parcel" not in params:
            raise Reply(422, self.error_document(422, "Missing required parameter: parcel"))
        number = len(self.shipments) + 1
        shipment_id = f"shp_{number:04d}"
        shipment = {
            "object": "Shipment",
            "id": shipment_id,
            "mode": "test",
            "reference": params.get("reference"),
            "is_return": params.get("is_return", False),
            "from_address": {"object": "Address", **params.get("from_address", {})},
            "to_address": {"object": "Address", **params.get("to_address", {})},
            "parcel": {"object": "Parcel", "id": f"prcl_{number:04d}", **params["parcel"]},
            "options": params.get("options", {}),
            "rates": [
                {
                    "object": "Rate",
                    "id": f"rate_{number:04d}_{index}",
                    "shipment_id": shipment_id,
                    "carrier": carrier,
                    "service": service,
                    "rate": amount,
                    "currency": "USD",
                }
                for index, (carrier, service, amount) in enumerate(self.rates)
            ],
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
            "refund_status": None,
            "status": "unknown",
        }
        self.shipments[shipment_id] = shipment
        return 201, shipment, "application/json"

    def _shipment(self, shipment_id: str) -> dict:
        if shipment_id not in self.shipments:
            raise Reply(404, self.error_document(404, "The requested resource could not be found."))
        return self.shipments[shipment_id]

    def retrieve(self, call: Call, shipment_id: str):
        return 200, self._shipment(shipment_id), "application/json"

    def buy(self, call: Call, shipment_id: str):
        shipment = self._shipment(shipment_id)
        if shipment["postage_label"] is not None:
            raise Reply(422, self.error_document(422, "Shipment already has postage"))
        rate_id = ((call.body or {}).get("rate") or {}).get("id")
        rate = next((rate for rate in shipment["rates"] if rate["id"] == rate_id), None)
        if rate is None:
            raise Reply(422, self.error_document(422, "Invalid rate"))
        self.purchases.append(shipment_id)
        number = len(self.purchases)
        shipment["selected_rate"] = rate
        shipment["tracking_code"] = f"EZ{number:010d}"
        shipment["postage_label"] = {
            "object": "PostageLabel",
            "id": f"pl_{number:04d}",
            "label_size": "4x6",
            "label_file_type": "application/pdf",
            "label_url": f"{self.origin}/files/{shipment_id}.pdf",
            "label_pdf_url": f"{self.origin}/files/{shipment_id}.pdf",
        }
        return 200, shipment, "application/json"

    def refund(self, call: Call, shipment_id: str):
        shipment = self._shipment(shipment_id)
        if shipment["postage_label"] is None or shipment["refund_status"]:
            raise Reply(422, self.error_document(422, "Shipment is not refundable"))
        self.refunds.append(shipment_id)
        shipment["refund_status"] = "submitted"
        return 200, shipment, "application/json"

    # Webhooks EasyPost sends (tests post them to our endpoint).

    @staticmethod
    def tracker_event(tracking_code: str, status: str, *, at: str, message: str = ""):
        """A `tracker.updated` Event as EasyPost posts it."""
        return {
            "object": "Event",
            "id": f"evt_{abs(hash((tracking_code, status, at))) % 10**8:08d}",
            "mode": "test",
            "description": "tracker.updated",
            "result": {
                "object": "Tracker",
                "id": f"trk_{tracking_code}",
                "tracking_code": tracking_code,
                "status": status,
                "carrier": "USPS",
                "updated_at": at,
                "tracking_details": [
                    {
                        "object": "TrackingDetail",
                        "message": message or status.replace("_", " "),
                        "status": status,
                        "datetime": at,
                        "tracking_location": {
                            "object": "TrackingLocation",
                            "city": "Philadelphia",
                            "state": "PA",
                            "country": "US",
                            "zip": "19103",
                        },
                    }
                ],
            },
        }
