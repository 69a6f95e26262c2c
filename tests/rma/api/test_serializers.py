from rma.api.serializers import RmaRequestSerializer, with_data

VALID = {
    "transactionId": "t-1",
    "items": [{"lineNumber": "1", "returnQuantity": 1, "returnReason": {"code": "TOO_SMALL"}}],
}
INVALID = {"transactionId": 7, "items": [{"lineNumber": "x", "returnQuantity": 1}]}


def fresh(data):
    serializer = RmaRequestSerializer(data=data)
    serializer.is_valid()
    return serializer


def test_one_serializer_per_class_and_thread():
    assert with_data(RmaRequestSerializer, VALID) is with_data(RmaRequestSerializer, INVALID)


def test_a_reused_serializer_answers_as_a_new_one_whatever_came_before():
    for data in (VALID, INVALID, INVALID, VALID, {}, VALID):
        serializer = with_data(RmaRequestSerializer, data)
        assert serializer.is_valid() == fresh(data).is_valid()
        assert serializer.errors == fresh(data).errors
        assert serializer.validated_data == fresh(data).validated_data
