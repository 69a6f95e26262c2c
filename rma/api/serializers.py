"""Request validation and the documented shapes of the RMA service API (docs/api.md).

The request serializers validate what the JSON decoder and the XML decoder produce
(the same dict either way). The types of known fields are strict: a value of the wrong
JSON type is refused rather than coerced, except `lineNumber` and `returnQuantity`,
which Radial's clients send as a number or as a string of digits. Unknown keys are
ignored, at every level (Radial's clients send fields this service has no use for).
The limits match `schema/rma.xsd`.

The response serializers only describe the responses for the OpenAPI schema; the
bodies themselves are built in `responses.py`.
"""

from __future__ import annotations

import threading

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

INT32 = {"min_value": -(2**31), "max_value": 2**31 - 1}


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF would turn 12 or true into text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a boolean, a float or a numeric string."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "format": "int32"},
            {"type": "string", "pattern": "^[0-9]{1,10}$"},
        ],
        "description": "A number, or a string of digits (as Radial's clients send it).",
    }
)
class DigitsIntegerField(StrictIntegerField):
    """A JSON integer, or a string of ASCII digits (`"1"`), as Radial's clients send them."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not (data.isascii() and data.isdigit()):
                self.fail("invalid")
            data = int(data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean: not 0/1 or "true"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializer(serializers.Serializer):
    """An object of known fields; unknown keys are ignored (left out of the validated data,
    so they change neither the request nor its idempotency hash)."""


def optional_text(max_length: int, **kwargs) -> StrictCharField:
    return StrictCharField(
        required=False, allow_null=True, allow_blank=True, max_length=max_length, **kwargs
    )


class OrderReferenceSerializer(StrictSerializer):
    """`orderId` and `store` may repeat the URL; when they do, they must match it.

    Radial's request context comes with every operation: `orderType` and `storeType` are
    echoed in the response; on generateRMA all four are stored with the RMA.
    """

    orderId = StrictCharField(required=False, max_length=64)
    orderType = optional_text(64)
    store = StrictCharField(required=False, max_length=32)
    storeType = optional_text(64)
    sourceName = optional_text(64)
    sourceLocationId = optional_text(64)


class EligibilityRequestSerializer(OrderReferenceSerializer):
    pass


class ReturnReasonSerializer(StrictSerializer):
    code = StrictCharField(max_length=64)
    category = optional_text(200)
    description = optional_text(200)


class RequestItemSerializer(StrictSerializer):
    lineNumber = DigitsIntegerField(**INT32)
    itemId = StrictCharField(required=False, allow_null=True, max_length=64)
    # Zero and negative quantities pass here: the service refuses them with RMA 1007.
    returnQuantity = DigitsIntegerField(**INT32)
    returnReason = ReturnReasonSerializer()
    exchangeItemId = StrictCharField(
        required=False,
        allow_null=True,
        max_length=64,
        help_text=(
            "With resolution EXCHANGE: the variant (SKU of the store's catalogue) wanted "
            "instead; its stock is reserved. Refused with RMA 1023 (422) when not available."
        ),
    )


class RepresentativeInfoSerializer(StrictSerializer):
    id = optional_text(200)
    name = optional_text(200)


class RmaRequestSerializer(OrderReferenceSerializer):
    transactionId = StrictCharField(max_length=100)
    requestTime = optional_text(200)
    returnItemsReceived = StrictBooleanField(
        required=False,
        help_text="True: the goods are already taken back (e.g. at a store counter).",
    )
    returnType = optional_text(64)
    customerEmail = optional_text(254)
    resolution = StrictCharField(required=False, allow_null=True, max_length=64)
    items = RequestItemSerializer(many=True, allow_empty=False)
    representativeInfo = RepresentativeInfoSerializer(required=False, allow_null=True)
    comments = optional_text(4000)


class LookupRequestSerializer(OrderReferenceSerializer):
    rmaid = optional_text(32, help_text="Absent or empty: every RMA of the order.")
    packageInfoRequired = StrictBooleanField(required=False, default=False)


_reused = threading.local()


def with_data(serializer_class: type[serializers.Serializer], data) -> serializers.Serializer:
    """This thread's instance of a request serializer, given `data` to validate.

    DRF deep-copies a serializer's declared fields (nested ones included) into every new
    instance: for generateRMA's body that was 0.23 of the 0.30 ms validation took. These
    serializers keep nothing between runs but the data and what validating it left (the
    errors, the validated data), which are reset here, so one instance serves every request
    of its thread, as a `many=True` list's child serves every item.
    """
    serializer = _reused.__dict__.get(serializer_class)
    if serializer is None:
        serializer = _reused.__dict__[serializer_class] = serializer_class()
    for name in ("_validated_data", "_errors", "_data"):
        serializer.__dict__.pop(name, None)
    serializer.initial_data = data
    return serializer


def validation_detail(errors, prefix: str = "") -> str:
    """The first validation error as `path: message`, e.g. `items[0].lineNumber: …`."""
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        path = key if key == "non_field_errors" else f"{prefix}.{key}".lstrip(".")
        return validation_detail(value, path)
    if isinstance(errors, list) and errors:
        first = next((entry for entry in errors if entry), errors[0])
        if isinstance(first, dict):
            return validation_detail(first, f"{prefix}[{errors.index(first)}]")
        return validation_detail(first, prefix)
    return f"{prefix}: {errors}" if prefix else str(errors)


# ---- Response shapes (documentation only) ------------------------------------------


class IneligibilitySerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()
    overridable = serializers.BooleanField()


def echo_fields() -> dict:
    """`orderType` and `storeType` as the request sent them (absent when it did not)."""
    return {
        "orderType": serializers.CharField(required=False, help_text="As sent; absent if not."),
        "storeType": serializers.CharField(required=False, help_text="As sent; absent if not."),
    }


class LineNumberField(serializers.CharField):
    """Line numbers are written as strings of digits (`"1"`), as Radial writes them."""


class EligibilityItemSerializer(serializers.Serializer):
    lineNumber = LineNumberField()
    itemId = serializers.CharField()
    orderedQuantity = serializers.IntegerField()
    returnableQuantity = serializers.IntegerField()
    eligible = serializers.BooleanField()
    ineligibility = IneligibilitySerializer(many=True)


class EligibilityItemsSerializer(serializers.Serializer):
    item = EligibilityItemSerializer(many=True)


class EligibilityResponseSerializer(serializers.Serializer):
    orderId = serializers.CharField()
    orderType = echo_fields()["orderType"]
    store = serializers.CharField()
    storeType = echo_fields()["storeType"]
    eligible = serializers.BooleanField(help_text="True when at least one line is returnable.")
    items = EligibilityItemsSerializer()


class ReturnReasonCodeSerializer(serializers.Serializer):
    value = serializers.CharField()
    category = serializers.CharField(
        help_text="The category sent with the request, else the store's description."
    )


class RmaItemSerializer(serializers.Serializer):
    lineNumber = LineNumberField()
    itemId = serializers.CharField()
    returnQuantity = serializers.IntegerField()
    returnReasonCode = ReturnReasonCodeSerializer()
    exchangeItemId = serializers.CharField(
        required=False, help_text="The variant the line is exchanged for; absent otherwise."
    )


class RmaItemsSerializer(serializers.Serializer):
    item = RmaItemSerializer(many=True)


class ReturnLocationSerializer(serializers.Serializer):
    whsName = serializers.CharField(allow_blank=True)
    whsStreet = serializers.CharField(allow_blank=True)
    whsCity = serializers.CharField(allow_blank=True)
    whsState = serializers.CharField(allow_blank=True)
    whsPostalCode = serializers.CharField(allow_blank=True)
    whsCountryCode = serializers.CharField(allow_blank=True)


class LabelSerializer(serializers.Serializer):
    status = serializers.CharField()
    carrier = serializers.CharField(allow_blank=True)
    trackingNumber = serializers.CharField(allow_blank=True)


class PackageIneligibilitySerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class PackageInfoSerializer(serializers.Serializer):
    weight = serializers.DecimalField(max_digits=14, decimal_places=3)
    weightUnit = serializers.CharField()
    length = serializers.DecimalField(max_digits=14, decimal_places=3)
    width = serializers.DecimalField(max_digits=14, decimal_places=3)
    height = serializers.DecimalField(max_digits=14, decimal_places=3)
    dimensionUnit = serializers.CharField()
    dimensionalWeight = serializers.DecimalField(max_digits=14, decimal_places=2)
    invoiceAmount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    eligible = serializers.BooleanField()
    ineligibility = PackageIneligibilitySerializer(many=True)


class EstimateSerializer(serializers.Serializer):
    """What the shopper gets back, before receipt (docs/money.md)."""

    currency = serializers.CharField(help_text="The store's currency (ISO 4217).")
    subtotal = serializers.CharField(help_text='Amount paid for the units, e.g. "39.98".')
    fees = serializers.CharField(help_text="Return fee (restocking applies after receipt).")
    bonus = serializers.CharField(help_text="Store credit bonus.")
    total = serializers.CharField(help_text="subtotal - fees + bonus.")


class RmaDetailsSerializer(serializers.Serializer):
    rmaid = serializers.CharField()
    status = serializers.CharField()
    isRMAActive = serializers.BooleanField()
    creationDate = serializers.CharField(help_text="UTC, YYYY-MM-DDTHH:MM:SS+0000.")
    expiryDate = serializers.CharField(
        allow_null=True, help_text="UTC, YYYY-MM-DDTHH:MM:SS.mmm; null while under review."
    )
    items = RmaItemsSerializer()
    returnLocation = ReturnLocationSerializer()
    label = LabelSerializer()
    packageInfo = PackageInfoSerializer(
        required=False, help_text="Only when packageInfoRequired is true (lookupRMA)."
    )
    estimate = EstimateSerializer(help_text="What the shopper gets back for this RMA.")


class RmaLookupResponseSerializer(serializers.Serializer):
    orderId = serializers.CharField()
    orderType = echo_fields()["orderType"]
    store = serializers.CharField()
    storeType = echo_fields()["storeType"]
    rmadetails = RmaDetailsSerializer(many=True)


class SummaryItemSerializer(serializers.Serializer):
    lineNumber = LineNumberField()
    itemId = serializers.CharField()
    returnQuantity = serializers.IntegerField()


class SummaryItemsSerializer(serializers.Serializer):
    item = SummaryItemSerializer(many=True)


class RmaResponseSerializer(serializers.Serializer):
    """Radial's shape for the first RMA created, then every RMA in `rmadetails`."""

    orderId = serializers.CharField()
    orderType = echo_fields()["orderType"]
    store = serializers.CharField()
    storeType = echo_fields()["storeType"]
    rmaid = serializers.CharField()
    expiryDate = serializers.CharField(
        allow_null=True, help_text="UTC, YYYY-MM-DDTHH:MM:SS.mmm; null while under review."
    )
    items = SummaryItemsSerializer()
    returnLocation = ReturnLocationSerializer()
    estimate = EstimateSerializer(help_text="The estimates of every RMA created, summed.")
    rmadetails = RmaDetailsSerializer(many=True)


class FaultItemSerializer(serializers.Serializer):
    lineNumber = LineNumberField()
    code = serializers.CharField()
    description = serializers.CharField()


class FaultDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='An RMA code ("RMA 1003"), or "401"/"405".')
    description = serializers.CharField()
    createTimestamp = serializers.DateTimeField()
    detail = serializers.CharField(required=False, help_text="What is wrong with a 1001.")
    requestId = serializers.CharField(required=False, help_text="RMA 1004 only.")
    items = FaultItemSerializer(many=True, required=False)
    orderType = serializers.CharField(
        required=False, help_text="As the request sent it, once its body could be read."
    )
    storeType = serializers.CharField(
        required=False, help_text="As the request sent it, once its body could be read."
    )


class FaultSerializer(serializers.Serializer):
    fault = FaultDetailSerializer()
