"""The returns dashboard: a few grouped queries, charts drawn as inline SVG.

What counts as a *return* here: an RMA that was not rejected, cancelled or expired, and its
*returned units* are the received quantity once the parcel arrived, else the requested one.
Returns per day, reasons and items follow the RMA's creation date; the return rate of a
department compares the units sold on orders placed in the period with the returned
units of those same orders (a cohort, so the rate cannot exceed 100 %).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rma.models import OrderLine, OrderStatus, Rma, RmaLine, Store
from rma.selectors import RELEASED_STATUSES

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP = 10


class DashboardForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.all(), required=False, empty_label=_("All stores")
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        date_to = cleaned.get("date_to") or self.today
        date_from = cleaned.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose at most a year."))
        cleaned.update(date_from=date_from, date_to=date_to)
        return cleaned


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date
    zone: dt.tzinfo

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.zone)

    @property
    def end(self) -> dt.datetime:
        """Exclusive: midnight after the last day."""
        return dt.datetime.combine(
            self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone
        )

    def days(self) -> list[dt.date]:
        count = (self.date_to - self.date_from).days + 1
        return [self.date_from + dt.timedelta(days=n) for n in range(count)]


@dataclass(frozen=True)
class DepartmentRate:
    department: str
    sold_units: int
    returned_units: int

    @property
    def rate_percent(self) -> Decimal:
        if not self.sold_units:
            return Decimal("0.0")
        rate = Decimal(self.returned_units) * 100 / Decimal(self.sold_units)
        return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class DashboardData:
    returns_per_day: list[tuple[dt.date, int]]
    top_reasons: list[dict]
    top_items: list[dict]
    departments: list[DepartmentRate]

    @property
    def total_returns(self) -> int:
        return sum(count for _, count in self.returns_per_day)


def returned_units():
    return Sum(Coalesce("received_quantity", "quantity"))


def dashboard_data(*, period: Period, store: Store | None = None) -> DashboardData:
    """Every figure of the dashboard, in five grouped queries."""
    store_filter = {"store": store} if store else {}
    rmas = Rma.objects.filter(
        created_at__gte=period.start, created_at__lt=period.end, **store_filter
    ).exclude(status__in=RELEASED_STATUSES)
    per_day = dict(
        rmas.annotate(day=TruncDate("created_at", tzinfo=period.zone))
        .order_by()
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    lines = RmaLine.objects.filter(
        rma__created_at__gte=period.start,
        rma__created_at__lt=period.end,
        **({"rma__store": store} if store else {}),
    ).exclude(rma__status__in=RELEASED_STATUSES)
    top_reasons = list(
        lines.values("reason_code")
        .annotate(units=returned_units(), returns=Count("rma", distinct=True))
        .order_by("-units", "reason_code")[:TOP]
    )
    top_items = list(
        lines.values("order_line__item_id")
        .annotate(units=returned_units(), title=Max("order_line__title"))
        .order_by("-units", "order_line__item_id")[:TOP]
    )
    return DashboardData(
        returns_per_day=[(day, per_day.get(day, 0)) for day in period.days()],
        top_reasons=top_reasons,
        top_items=top_items,
        departments=_department_rates(period=period, store=store),
    )


def _department_rates(*, period: Period, store: Store | None) -> list[DepartmentRate]:
    placed = {"order__placed_at__gte": period.start, "order__placed_at__lt": period.end}
    if store:
        placed["order__store"] = store
    sold = dict(
        OrderLine.objects.filter(**placed)
        .exclude(order__status=OrderStatus.CANCELLED)
        .order_by()
        .values("department")
        .annotate(units=Sum("quantity"))
        .values_list("department", "units")
    )
    returned = dict(
        RmaLine.objects.filter(**{f"order_line__{key}": value for key, value in placed.items()})
        .exclude(rma__status__in=RELEASED_STATUSES)
        .order_by()
        .values("order_line__department")
        .annotate(units=returned_units())
        .values_list("order_line__department", "units")
    )
    rates = [
        DepartmentRate(department, sold_units, returned.get(department) or 0)
        for department, sold_units in sold.items()
    ]
    return sorted(rates, key=lambda rate: (-rate.rate_percent, rate.department))


# Charts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    # Labels of the horizontal axis (column charts): (x, text).
    ticks: list[tuple[float, str]]
    label_width: int = 0
    # The largest value: the top of a column chart's scale.
    top: float = 0
    baseline: float = 0


def horizontal_bar_chart(rows, *, width=560, label_width=180, bar_height=20, gap=8) -> Chart:
    """rows: (label, value, text shown after the bar); bar lengths scale to the largest value."""
    rows = list(rows)
    top = max((float(value) for _, value, _ in rows), default=0) or 1
    plot_width = width - label_width - 60
    bars = [
        Bar(
            label=str(label),
            value=float(value),
            text=str(text),
            x=label_width,
            y=index * (bar_height + gap),
            width=round(plot_width * float(value) / top, 1),
            height=bar_height,
        )
        for index, (label, value, text) in enumerate(rows)
    ]
    return Chart(
        width=width,
        height=max(len(rows) * (bar_height + gap), bar_height),
        bars=bars,
        ticks=[],
        label_width=label_width,
    )


def column_chart(points, *, width=720, height=200, axis=24) -> Chart:
    """points: (date, count) per day; about eight date labels along the bottom."""
    points = list(points)
    top = max((count for _, count in points), default=0) or 1
    slot = width / max(len(points), 1)
    plot_height = height - axis
    bars, ticks = [], []
    every = max(len(points) // 8, 1)
    for index, (day, count) in enumerate(points):
        bar_height = round(plot_height * count / top, 1)
        x = round(index * slot, 1)
        bars.append(
            Bar(
                label=day.isoformat(),
                value=count,
                text=str(count),
                x=x + 1,
                y=round(plot_height - bar_height, 1),
                width=round(max(slot - 2, 1), 1),
                height=bar_height,
            )
        )
        if index % every == 0:
            ticks.append((x, day.strftime("%b %d")))
    return Chart(width=width, height=height, bars=bars, ticks=ticks, top=top, baseline=plot_height)


def dashboard_view(model_admin):
    def view(request):
        if not request.user.has_perm("rma.view_dashboard"):
            raise PermissionDenied
        today = timezone.localdate()
        # Empty fields take the defaults (the last 30 days, every store) in clean().
        form = DashboardForm(request.GET, today=today)
        if form.is_valid():
            cleaned = form.cleaned_data
            form = DashboardForm(initial=cleaned, today=today)
        else:
            defaults = DashboardForm({}, today=today)
            defaults.is_valid()
            cleaned = defaults.cleaned_data
        store = cleaned.get("store")
        zone = ZoneInfo(store.timezone) if store else timezone.get_current_timezone()
        period = Period(cleaned["date_from"], cleaned["date_to"], zone)
        data = dashboard_data(period=period, store=store)
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": _("Returns dashboard"),
            "form": form,
            "period": period,
            "store": store,
            "data": data,
            "per_day_chart": column_chart(data.returns_per_day),
            "reasons_chart": horizontal_bar_chart(
                (row["reason_code"], row["units"], row["units"]) for row in data.top_reasons
            ),
            "items_chart": horizontal_bar_chart(
                (row["order_line__item_id"], row["units"], row["units"]) for row in data.top_items
            ),
            "departments_chart": horizontal_bar_chart(
                (
                    rate.department or _("(no department)"),
                    rate.rate_percent,
                    f"{rate.rate_percent} %",
                )
                for rate in data.departments
            ),
        }
        return TemplateResponse(request, "admin/rma/dashboard.html", context)

    return view
