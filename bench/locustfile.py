"""Locust users of the load test (bench/loadtest.py starts Locust with this file).

- `Shopper`: opens the portal, looks an order up (number and email), opens the order
  page and requests a return of its line: 4 requests, a new order and a new browser
  session each time.
- `ApiClient`: checkEligibility then generateRMA for a fresh order, as a store's
  system does: 2 requests.

Every iteration takes an order of its own (`LT…`, written for the load test by
bench/loadtest.py; `LOADTEST_FIRST`/`LOADTEST_LAST` bound this step's range), so every
request should succeed, and each simulated shopper comes from an address of its own
(`X-Forwarded-For`, read with `TRUSTED_PROXY_COUNT=1` as behind one proxy): the lookup
rate limits (per order, per address) count failed look-ups only, and none should fail.
A request that does not answer its expected status is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
import uuid
from http.cookiejar import DefaultCookiePolicy

from locust import FastHttpUser, between, task

STORE = os.environ.get("LOADTEST_STORE", "BENCH")
API_KEY = os.environ.get("LOADTEST_API_KEY", "")
FIRST = int(os.environ.get("LOADTEST_FIRST", "1"))
LAST = int(os.environ.get("LOADTEST_LAST", "1000"))
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HTTPS = {"X-Forwarded-Proto": "https"}

_orders = itertools.count(FIRST)
_addresses = itertools.count(1)
RUN = uuid.uuid4().hex[:8]


def next_order() -> tuple[str, str]:
    index = next(_orders)
    if index > LAST:
        raise RuntimeError("the load test ran out of orders: raise ORDERS_PER_STEP")
    return f"LT{index:07d}", f"shopper{index}@example.com"


class BehindTlsProxy(DefaultCookiePolicy):
    """Sends `Secure` cookies over the loopback hop: the browser got them over HTTPS from
    the proxy, which speaks plain HTTP to gunicorn (production's cookies are all Secure)."""

    def return_ok_secure(self, cookie, request):
        return True


def expect(response, status: int) -> bool:
    if response.status_code != status:
        response.failure(f"{response.status_code}, expected {status}")
        return False
    response.success()
    return True


class Shopper(FastHttpUser):
    weight = 1
    wait_time = between(0, 0)

    def on_start(self):
        serial = next(_addresses)
        address = f"10.{serial // 65536 % 256}.{serial // 256 % 256}.{serial % 256}"
        self.client.cookiejar.set_policy(BehindTlsProxy())
        self.headers = {
            **HTTPS,
            "X-Forwarded-For": address,
            "Origin": self.host.replace("http://", "https://"),
        }

    @task
    def request_return(self):
        order_id, email = next_order()
        self.client.cookiejar.clear()
        with self.client.get(
            "/", headers=self.headers, name="portal: lookup page", catch_response=True
        ) as page:
            if not expect(page, 200):
                return
            token = CSRF_FIELD.search(page.text)[1]
        order_path = f"/order/{STORE}/{order_id}/"
        with self.client.post(
            "/",
            data={"csrfmiddlewaretoken": token, "order_number": order_id, "contact": email},
            headers=self.headers,
            name="portal: lookup",
            allow_redirects=False,
            catch_response=True,
        ) as found:
            if not expect(found, 302):
                return
        with self.client.get(
            order_path, headers=self.headers, name="portal: order page", catch_response=True
        ) as page:
            if not expect(page, 200):
                return
        form = {
            "csrfmiddlewaretoken": token,
            "resolution": "REFUND",
            "line-1-selected": "on",
            "line-1-quantity": "1",
            "line-1-reason": "TOO_SMALL",
            "comment": "",
        }
        with self.client.post(
            order_path,
            data=form,
            headers=self.headers,
            name="portal: request return",
            allow_redirects=False,
            catch_response=True,
        ) as requested:
            expect(requested, 302)


class ApiClient(FastHttpUser):
    weight = 1
    wait_time = between(0, 0)

    @task
    def eligibility_then_rma(self):
        order_id, _ = next_order()
        base = f"/v1.0/seller/{STORE}/return-order/create/{order_id}"
        headers = {**HTTPS, "apikey": API_KEY}
        with self.client.get(
            f"{base}/checkEligibility.json",
            headers=headers,
            name="api: checkEligibility",
            catch_response=True,
        ) as checked:
            if not expect(checked, 200):
                return
        body = {
            "orderId": order_id,
            "store": STORE,
            "transactionId": f"load-{RUN}-{order_id}",
            "requestTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sourceName": "loadtest",
            "returnType": "RETURN",
            "resolution": "REFUND",
            "items": [
                {
                    "lineNumber": 1,
                    "itemId": "SKU-1",
                    "returnQuantity": 1,
                    "returnReason": {"code": "TOO_SMALL", "category": "FIT", "description": ""},
                }
            ],
            "comments": "load test",
        }
        with self.client.post(
            f"{base}/generateRMA.json",
            data=json.dumps(body),
            headers={**headers, "Content-Type": "application/json"},
            name="api: generateRMA",
            catch_response=True,
        ) as created:
            expect(created, 201)
