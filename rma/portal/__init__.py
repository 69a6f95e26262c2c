"""The shopper portal: thin views over the selectors and services.

Decisions where the specification is silent:

- A successful lookup grants the matching order(s) to the browser session (on a fresh
  session key); the order and confirmation pages answer 404 without that grant. The
  status page needs no session: its signed link is the grant, for that RMA only.
- Only failed lookups count against the rate limits (per typed order number and per
  client address); a limited client gets the 429 page even for a correct pair.
- The order page draws the line controls as plain markup (the reason `<option>`s built
  once per request; the quantity a number input from 1 to the returnable quantity, so a
  line's markup does not grow with its quantity); the form gets fields only for the
  lines a request selects or sends a photo for, and inputs show only on eligible lines.
  Posted numbers are read as ASCII digits only. Whatever is selected goes to
  `rma_request`, so the quantity, eligibility, reason, resolution and photo rules live
  in the service alone.
- Photos are re-named at random and stored through the default storage, which has no
  public route (`MEDIA_URL` is never served); agents see them in the admin.
- A store's brand colour styles the page header through one nonce'd `<style>`, with a
  black or white text colour chosen for contrast; product images load only over https,
  from the origins the page adds to its Content-Security-Policy (rebuilt from each URL's
  host and port, so nothing else of a URL can reach the header).
- Shoppers get the portal's own 404 page in DEBUG too (`middleware.py`): Django's
  technical page lists every URL of the site. Staff and API paths keep it, and server
  errors keep the technical page in DEBUG (a developer needs the traceback).
"""
