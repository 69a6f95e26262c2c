"""Carrier tracking: webhooks from EasyPost and Shippo recorded as `TrackingEvent`s."""
