"""generateRMA publishes its follow-up tasks once its response has gone out."""

import json

import pytest
from django.test import RequestFactory
from django.urls import resolve

from rma import queue
from rma.models import Rma
from tests.rma.api.conftest import api_url, rma_body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_label_task_is_published_when_the_response_is_closed(
    monkeypatch, settings, order, raw_key
):
    settings.LABEL_SERVICE = "builtin"
    sent = []
    monkeypatch.setattr(queue, "enqueue", lambda name, **kwargs: sent.append((name, kwargs)))
    url = api_url(order.store.code, order.order_id, "generateRMA", "json")
    request = RequestFactory().post(
        url,
        json.dumps(rma_body(order, (1, 1))),
        content_type="application/json",
        headers={"apikey": raw_key},
    )
    match = resolve(url)

    response = match.func(request, *match.args, **match.kwargs)

    assert response.status_code == 201
    assert sent == []  # committed, not yet published
    response.close()  # what the WSGI server does once the body is sent
    assert sent == [("rma.issue_label", {"rma_id": Rma.objects.get().pk})]
