"""Record what the τ-bench environments answer and leave behind, as a test fixture.

    python scripts/record-tau-expected.py retail ../shared/data/tau-bench-retail-dev
    python scripts/record-tau-expected.py airline ../shared/data/tau-bench-airline-dev

For every task of the data's task file, and for a few extra probes (call sequences that
reach the refusals and rounding corners the ground truths do not), the script replays
the calls on a fresh copy of the database and records each call's output text, the
SHA-256 of the final database (canonical JSON: sorted keys, no spaces) and the rows
that changed. It writes ``tests/fixtures/tau/<domain>_expected.json``; the tests replay
the same calls in simulacra's environments and compare.

Where the benchmark's own package (``tau_bench``) is importable, its tools produce the
values. Otherwise the script uses the transcription below: the benchmark's tool
behaviour as read from its public source, written out independently of simulacra (it
imports nothing from it), so the fixture says which of the two recorded it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tau"

DOMAINS = {
    "retail": {
        "tables": {
            "users": "retail_db_users.json",
            "orders": "retail_db_orders.json",
            "products": "retail_db_products.json",
        },
        "tasks": "retail_tasks_dev.json",
    },
    "airline": {
        "tables": {
            "flights": "airline_db_flights.json",
            "reservations": "airline_db_reservations.json",
            "users": "airline_db_users.json",
        },
        "tasks": "airline_tasks_dev.json",
    },
}

Data = dict[str, Any]
Tool = Callable[..., str]


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- retail


def _r_order(data: Data, order_id: str) -> Any:
    return data["orders"].get(order_id)


def r_find_user_id_by_email(data: Data, email: str) -> str:
    for uid, user in data["users"].items():
        if user["email"].lower() == email.lower():
            return uid
    return "Error: user not found"


def r_find_user_id_by_name_zip(data: Data, first_name: str, last_name: str, zip: str) -> str:
    for uid, user in data["users"].items():
        if (
            user["name"]["first_name"].lower() == first_name.lower()
            and user["name"]["last_name"].lower() == last_name.lower()
            and user["address"]["zip"] == zip
        ):
            return uid
    return "Error: user not found"


def _lookup(table: str, what: str) -> Tool:
    def look(data: Data, **kwargs: str) -> str:
        (key,) = kwargs.values()
        if key in data[table]:
            return json.dumps(data[table][key])
        return f"Error: {what} not found"

    return look


def r_list_all_product_types(data: Data) -> str:
    names = {p["name"]: p["product_id"] for p in data["products"].values()}
    return json.dumps(dict(sorted(names.items())))


def r_cancel_pending_order(data: Data, order_id: str, reason: str) -> str:
    order = _r_order(data, order_id)
    if order is None:
        return "Error: order not found"
    if order["status"] != "pending":
        return "Error: non-pending order cannot be cancelled"
    if reason not in ("no longer needed", "ordered by mistake"):
        return "Error: invalid reason"
    refunds = []
    for entry in order["payment_history"]:
        pid = entry["payment_method_id"]
        refunds.append({"transaction_type": "refund", "amount": entry["amount"], "payment_method_id": pid})
        if "gift_card" in pid:
            card = data["users"][order["user_id"]]["payment_methods"][pid]
            card["balance"] = round(card["balance"] + entry["amount"], 2)
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    order["payment_history"].extend(refunds)
    return json.dumps(order)


def _addr(address1: str, address2: str, city: str, state: str, country: str, zip: str) -> dict[str, str]:
    return {"address1": address1, "address2": address2, "city": city, "state": state, "country": country, "zip": zip}


def r_modify_pending_order_address(data: Data, order_id: str, **address: str) -> str:
    order = _r_order(data, order_id)
    if order is None:
        return "Error: order not found"
    if order["status"] != "pending":
        return "Error: non-pending order cannot be modified"
    order["address"] = _addr(**address)
    return json.dumps(order)


def r_modify_user_address(data: Data, user_id: str, **address: str) -> str:
    if user_id not in data["users"]:
        return "Error: user not found"
    user = data["users"][user_id]
    user["address"] = _addr(**address)
    return json.dumps(user)


def r_modify_pending_order_payment(data: Data, order_id: str, payment_method_id: str) -> str:
    order = _r_order(data, order_id)
    if order is None:
        return "Error: order not found"
    if order["status"] != "pending":
        return "Error: non-pending order cannot be modified"
    methods = data["users"][order["user_id"]]["payment_methods"]
    if payment_method_id not in methods:
        return "Error: payment method not found"
    history = order["payment_history"]
    if len(history) > 1 or history[0]["transaction_type"] != "payment":
        return "Error: there should be exactly one payment for a pending order"
    old = history[0]["payment_method_id"]
    if old == payment_method_id:
        return "Error: the new payment method should be different from the current one"
    amount = history[0]["amount"]
    new = methods[payment_method_id]
    if new["source"] == "gift_card" and new["balance"] < amount:
        return "Error: insufficient gift card balance to pay for the order"
    history.append({"transaction_type": "payment", "amount": amount, "payment_method_id": payment_method_id})
    history.append({"transaction_type": "refund", "amount": amount, "payment_method_id": old})
    if new["source"] == "gift_card":
        new["balance"] = round(new["balance"] - amount, 2)
    if "gift_card" in old:
        methods[old]["balance"] = round(methods[old]["balance"] + amount, 2)
    return json.dumps(order)


def _r_items_check(data: Data, order: Any, item_ids: list[str], new_item_ids: list[str], missing: str) -> Any:
    held = [i["item_id"] for i in order["items"]]
    for iid in item_ids:
        if item_ids.count(iid) > held.count(iid):
            return missing.format(iid)
    if len(item_ids) != len(new_item_ids):
        return "Error: the number of items to be exchanged should match"
    diff: float = 0
    for iid, nid in zip(item_ids, new_item_ids):
        item = [i for i in order["items"] if i["item_id"] == iid][0]
        variants = data["products"][item["product_id"]]["variants"]
        if not (nid in variants and variants[nid]["available"]):
            return f"Error: new item {nid} not found or available"
        diff += variants[nid]["price"] - item["price"]
    return diff


def r_modify_pending_order_items(data: Data, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str) -> str:
    order = _r_order(data, order_id)
    if order is None:
        return "Error: order not found"
    if order["status"] != "pending":
        return "Error: non-pending order cannot be modified"
    diff = _r_items_check(data, order, item_ids, new_item_ids, "Error: {} not found")
    if isinstance(diff, str):
        return diff
    methods = data["users"][order["user_id"]]["payment_methods"]
    if payment_method_id not in methods:
        return "Error: payment method not found"
    method = methods[payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < diff:
        return "Error: insufficient gift card balance to pay for the new item"
    order["payment_history"].append(
        {"transaction_type": "payment" if diff > 0 else "refund", "amount": abs(diff), "payment_method_id": payment_method_id}
    )
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - diff, 2)
    for iid, nid in zip(item_ids, new_item_ids):
        item = [i for i in order["items"] if i["item_id"] == iid][0]
        variant = data["products"][item["product_id"]]["variants"][nid]
        item["item_id"], item["price"], item["options"] = nid, variant["price"], variant["options"]
    order["status"] = "pending (item modified)"
    return json.dumps(order)


def r_return_delivered_order_items(data: Data, order_id: str, item_ids: list[str], payment_method_id: str) -> str:
    order = _r_order(data, order_id)
    if order is None:
        return "Error: order not found"
    if order["status"] != "delivered":
        return "Error: non-delivered order cannot be returned"
    if payment_method_id not in data["users"][order["user_id"]]["payment_methods"]:
        return "Error: payment method not found"
    if "gift_card" not in payment_method_id and payment_method_id != order["payment_history"][0]["payment_method_id"]:
        return "Error: payment method should be either the original payment method or a gift card"
    held = [i["item_id"] for i in order["items"]]
    if any(item_ids.count(i) > held.count(i) for i in item_ids):
        return "Error: some item not found"
    order["status"] = "return requested"
    order["return_items"] = sorted(item_ids)
    order["return_payment_method_id"] = payment_method_id
    return json.dumps(order)


def r_exchange_delivered_order_items(data: Data, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str) -> str:
    order = _r_order(data, order_id)
    if order is None:
        return "Error: order not found"
    if order["status"] != "delivered":
        return "Error: non-delivered order cannot be exchanged"
    diff = _r_items_check(data, order, item_ids, new_item_ids, "Error: {} not found")
    if isinstance(diff, str):
        return diff
    diff = round(diff, 2)
    methods = data["users"][order["user_id"]]["payment_methods"]
    if payment_method_id not in methods:
        return "Error: payment method not found"
    method = methods[payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < diff:
        return "Error: insufficient gift card balance to pay for the price difference"
    order["status"] = "exchange requested"
    order["exchange_items"] = sorted(item_ids)
    order["exchange_new_items"] = sorted(new_item_ids)
    order["exchange_payment_method_id"] = payment_method_id
    order["exchange_price_difference"] = diff
    return json.dumps(order)


def calculate(data: Data, expression: str) -> str:
    if not all(c in "0123456789+-*/(). " for c in expression):
        return "Error: invalid characters in expression"
    try:
        return str(round(float(eval(expression, {"__builtins__": None}, {})), 2))  # noqa: S307 - digits and operators only
    except Exception as exc:
        return f"Error: {exc}"


def think(data: Data, thought: str) -> str:
    return ""


def transfer_to_human_agents(data: Data, summary: str) -> str:
    return "Transfer successful"


RETAIL: dict[str, Tool] = {
    "find_user_id_by_email": r_find_user_id_by_email,
    "find_user_id_by_name_zip": r_find_user_id_by_name_zip,
    "get_user_details": _lookup("users", "user"),
    "get_order_details": _lookup("orders", "order"),
    "get_product_details": _lookup("products", "product"),
    "list_all_product_types": r_list_all_product_types,
    "cancel_pending_order": r_cancel_pending_order,
    "modify_pending_order_address": r_modify_pending_order_address,
    "modify_pending_order_payment": r_modify_pending_order_payment,
    "modify_pending_order_items": r_modify_pending_order_items,
    "modify_user_address": r_modify_user_address,
    "return_delivered_order_items": r_return_delivered_order_items,
    "exchange_delivered_order_items": r_exchange_delivered_order_items,
    "calculate": calculate,
    "think": think,
    "transfer_to_human_agents": transfer_to_human_agents,
}


# --------------------------------------------------------------------------- airline


def a_get_reservation_details(data: Data, reservation_id: str) -> str:
    if reservation_id in data["reservations"]:
        return json.dumps(data["reservations"][reservation_id])
    return "Error: user not found"  # sic: the benchmark's wording


def a_list_all_airports(data: Data) -> str:
    codes = "SFO JFK LAX ORD DFW DEN SEA ATL MIA BOS PHX IAH LAS MCO EWR CLT MSP DTW PHL LGA".split()
    cities = [
        "San Francisco", "New York", "Los Angeles", "Chicago", "Dallas", "Denver", "Seattle",
        "Atlanta", "Miami", "Boston", "Phoenix", "Houston", "Las Vegas", "Orlando", "Newark",
        "Charlotte", "Minneapolis", "Detroit", "Philadelphia", "LaGuardia",
    ]  # fmt: skip
    return json.dumps(dict(zip(codes, cities)))


def _a_segment(flight: Any, on: str) -> dict[str, Any]:
    row = {k: v for k, v in flight.items() if k != "dates"}
    row.update(flight["dates"][on])
    return row


def a_search_direct_flight(data: Data, origin: str, destination: str, date: str) -> str:
    found = []
    for flight in data["flights"].values():
        if flight["origin"] == origin and flight["destination"] == destination:
            if date in flight["dates"] and flight["dates"][date]["status"] == "available":
                found.append(_a_segment(flight, date))
    return json.dumps(found)


def a_search_onestop_flight(data: Data, origin: str, destination: str, date: str) -> str:
    found = []
    for one in data["flights"].values():
        if one["origin"] != origin:
            continue
        for two in data["flights"].values():
            if two["destination"] != destination or one["destination"] != two["origin"]:
                continue
            date2 = f"2024-05-{int(date[-2:]) + 1}" if "+1" in one["scheduled_arrival_time_est"] else date
            if one["scheduled_arrival_time_est"] > two["scheduled_departure_time_est"]:
                continue
            if date in one["dates"] and date2 in two["dates"]:
                if one["dates"][date]["status"] == "available" and two["dates"][date2]["status"] == "available":
                    first = _a_segment(one, date)
                    first["date"] = date
                    second = {k: v for k, v in two.items() if k != "dates"}
                    second.update(two["dates"][date])  # sic: the first leg's date
                    second["date"] = date2
                    found.append([first, second])
    return json.dumps(found)


def a_book_reservation(data: Data, user_id: str, origin: str, destination: str, flight_type: str, cabin: str, flights: list[Any], passengers: list[Any], payment_methods: list[Any], total_baggages: int, nonfree_baggages: int, insurance: str) -> str:
    reservations, users = data["reservations"], data["users"]
    if user_id not in users:
        return "Error: user not found"
    user = users[user_id]
    rid = "HATHAT"
    if rid in reservations:
        rid = "HATHAU"
        if rid in reservations:
            rid = "HATHAV"
    reservation = {
        "reservation_id": rid, "user_id": user_id, "origin": origin, "destination": destination,
        "flight_type": flight_type, "cabin": cabin, "flights": copy.deepcopy(flights),
        "passengers": passengers, "payment_history": payment_methods,
        "created_at": "2024-05-15T15:00:00", "total_baggages": total_baggages,
        "nonfree_baggages": nonfree_baggages, "insurance": insurance,
    }  # fmt: skip
    total: float = 0
    for leg in reservation["flights"]:
        number = leg["flight_number"]
        if number not in data["flights"]:
            return f"Error: flight {number} not found"
        flight = data["flights"][number]
        if leg["date"] not in flight["dates"]:
            return f"Error: flight {number} not found on date {leg['date']}"
        day = flight["dates"][leg["date"]]
        if day["status"] != "available":
            return f"Error: flight {number} not available on date {leg['date']}"
        if day["available_seats"][cabin] < len(passengers):
            return f"Error: not enough seats on flight {number}"
        leg["price"] = day["prices"][cabin]
        leg["origin"] = flight["origin"]
        leg["destination"] = flight["destination"]
        total += leg["price"] * len(passengers)
    if insurance == "yes":
        total += 30 * len(passengers)
    total += 50 * nonfree_baggages
    for pay in payment_methods:
        pid, amount = pay["payment_id"], pay["amount"]
        if pid not in user["payment_methods"]:
            return f"Error: payment method {pid} not found"
        if user["payment_methods"][pid]["source"] in ("gift_card", "certificate"):
            if user["payment_methods"][pid]["amount"] < amount:
                return f"Error: not enough balance in payment method {pid}"
    paid = sum(p["amount"] for p in payment_methods)
    if paid != total:
        return f"Error: payment amount does not add up, total price is {total}, but paid {paid}"
    for pay in payment_methods:
        pid = pay["payment_id"]
        if user["payment_methods"][pid]["source"] == "gift_card":
            user["payment_methods"][pid]["amount"] -= pay["amount"]
        elif user["payment_methods"][pid]["source"] == "certificate":
            del user["payment_methods"][pid]
    reservations[rid] = reservation
    user["reservations"].append(rid)
    return json.dumps(reservation)


def a_cancel_reservation(data: Data, reservation_id: str) -> str:
    if reservation_id not in data["reservations"]:
        return "Error: reservation not found"
    reservation = data["reservations"][reservation_id]
    refunds = [{"payment_id": p["payment_id"], "amount": -p["amount"]} for p in reservation["payment_history"]]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"
    return json.dumps(reservation)


def _a_paying_method(data: Data, reservation: Any, payment_id: str, price: float) -> Any:
    methods = data["users"][reservation["user_id"]]["payment_methods"]
    if payment_id not in methods:
        return "Error: payment method not found"
    method = methods[payment_id]
    if method["source"] == "certificate":
        return "Error: certificate cannot be used to update reservation"
    if method["source"] == "gift_card" and method["amount"] < price:
        return "Error: gift card balance is not enough"
    return method


def a_update_reservation_baggages(data: Data, reservation_id: str, total_baggages: int, nonfree_baggages: int, payment_id: str) -> str:
    if reservation_id not in data["reservations"]:
        return "Error: reservation not found"
    reservation = data["reservations"][reservation_id]
    price = 50 * max(0, nonfree_baggages - reservation["nonfree_baggages"])
    method = _a_paying_method(data, reservation, payment_id, price)
    if isinstance(method, str):
        return method
    reservation["total_baggages"] = total_baggages
    reservation["nonfree_baggages"] = nonfree_baggages
    if method["source"] == "gift_card":
        method["amount"] -= price
    if price != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": price})
    return json.dumps(reservation)


def a_update_reservation_flights(data: Data, reservation_id: str, cabin: str, flights: list[Any], payment_id: str) -> str:
    if reservation_id not in data["reservations"]:
        return "Error: reservation not found"
    reservation = data["reservations"][reservation_id]
    n = len(reservation["passengers"])
    total: float = 0
    flights = copy.deepcopy(flights)
    for leg in flights:
        kept = [
            f for f in reservation["flights"]
            if f["flight_number"] == leg["flight_number"] and f["date"] == leg["date"] and cabin == reservation["cabin"]
        ]  # fmt: skip
        if kept:
            total += kept[0]["price"] * n
            leg["price"], leg["origin"], leg["destination"] = kept[0]["price"], kept[0]["origin"], kept[0]["destination"]
            continue
        number = leg["flight_number"]
        if number not in data["flights"]:
            return f"Error: flight {number} not found"
        flight = data["flights"][number]
        if leg["date"] not in flight["dates"]:
            return f"Error: flight {number} not found on date {leg['date']}"
        day = flight["dates"][leg["date"]]
        if day["status"] != "available":
            return f"Error: flight {number} not available on date {leg['date']}"
        if day["available_seats"][cabin] < n:
            return f"Error: not enough seats on flight {number}"
        leg["price"], leg["origin"], leg["destination"] = day["prices"][cabin], flight["origin"], flight["destination"]
        total += leg["price"] * n
    total -= sum(f["price"] for f in reservation["flights"]) * n
    method = _a_paying_method(data, reservation, payment_id, total)
    if isinstance(method, str):
        return method
    if method["source"] == "gift_card":
        method["amount"] -= total
    reservation["flights"] = flights
    if total != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": total})
    return json.dumps(reservation)


def a_update_reservation_passengers(data: Data, reservation_id: str, passengers: list[Any]) -> str:
    if reservation_id not in data["reservations"]:
        return "Error: reservation not found"
    reservation = data["reservations"][reservation_id]
    if len(passengers) != len(reservation["passengers"]):
        return "Error: number of passengers does not match"
    reservation["passengers"] = passengers
    return json.dumps(reservation)


def a_send_certificate(data: Data, user_id: str, amount: float) -> str | None:
    if user_id not in data["users"]:
        return "Error: user not found"
    user = data["users"][user_id]
    for number in (3221322, 3221323, 3221324):
        pid = f"certificate_{number}"
        if pid not in user["payment_methods"]:
            user["payment_methods"][pid] = {"source": "certificate", "amount": amount, "id": pid}
            return f"Certificate {pid} added to user {user_id} with amount {amount}."
    return None


AIRLINE: dict[str, Callable[..., Any]] = {
    "book_reservation": a_book_reservation,
    "calculate": calculate,
    "cancel_reservation": a_cancel_reservation,
    "get_reservation_details": a_get_reservation_details,
    "get_user_details": _lookup("users", "user"),
    "list_all_airports": a_list_all_airports,
    "search_direct_flight": a_search_direct_flight,
    "search_onestop_flight": a_search_onestop_flight,
    "send_certificate": a_send_certificate,
    "think": think,
    "transfer_to_human_agents": transfer_to_human_agents,
    "update_reservation_baggages": a_update_reservation_baggages,
    "update_reservation_flights": a_update_reservation_flights,
    "update_reservation_passengers": a_update_reservation_passengers,
}


# --------------------------------------------------------------------------- probes


def retail_probes(data: Data) -> list[dict[str, Any]]:
    """Call sequences for the corners the development ground truths do not reach."""
    orders = data["orders"]
    users = data["users"]

    def first(status: str, test: Callable[[Any], bool] = lambda o: True) -> Any:
        return next(o for _, o in sorted(orders.items()) if o["status"] == status and test(o))

    def gift_card(order: Any) -> Any:
        cards = [m for m in users[order["user_id"]]["payment_methods"].values() if m["source"] == "gift_card"]
        return cards[0] if cards else None

    def other_variant(order: Any, noisy: bool) -> tuple[str, str] | None:
        for item in order["items"]:
            for vid, v in data["products"][item["product_id"]]["variants"].items():
                if vid != item["item_id"] and v["available"]:
                    diff = v["price"] - item["price"]
                    if not noisy or round(diff, 2) != diff:
                        return item["item_id"], vid
        return None

    def other_method_of(order: Any) -> str | None:
        paid = order["payment_history"][0]["payment_method_id"]
        methods = users[order["user_id"]]["payment_methods"]
        return next((m for m in methods if m != paid and "gift_card" not in m), None)

    delivered = first("delivered", lambda o: len(o["items"]) >= 2 and other_method_of(o) is not None)
    pending = first("pending")
    with_card = first("pending", lambda o: gift_card(o) is not None and not o["payment_history"][0]["payment_method_id"].startswith("gift_card") and gift_card(o)["balance"] >= o["payment_history"][0]["amount"])
    noisy = first("pending", lambda o: other_variant(o, True) is not None)
    old_id, new_id = other_variant(noisy, True) or ("", "")
    same = delivered["items"][0]["item_id"]
    paid = delivered["payment_history"][0]["payment_method_id"]
    other_method = other_method_of(delivered)
    address = {"address1": "12 Rue de l'Église", "address2": "", "city": "Zürich", "state": "ZH", "country": "Switzerland", "zip": "8001"}
    probes: list[dict[str, Any]] = [
        {
            "id": "probe-lookups",
            "actions": [
                ("find_user_id_by_email", {"email": "nobody@example.com"}),
                ("find_user_id_by_name_zip", {"first_name": "NOBODY", "last_name": "Here", "zip": "00000"}),
                ("get_user_details", {"user_id": "nobody_0"}),
                ("get_order_details", {"order_id": pending["order_id"].lstrip("#")}),
                ("get_order_details", {"order_id": pending["order_id"]}),
                ("get_product_details", {"product_id": pending["items"][0]["item_id"]}),
                ("get_product_details", {"product_id": pending["items"][0]["product_id"]}),
                ("list_all_product_types", {}),
                ("calculate", {"expression": "2 ** 10 / 3"}),
                ("calculate", {"expression": "1 / 0"}),
                ("calculate", {"expression": "(1 +"}),
                ("calculate", {"expression": "abs(-1)"}),
                ("think", {"thought": "nothing to do"}),
                ("refund_everything", {"order_id": pending["order_id"]}),
            ],
        },
        {
            "id": "probe-same-item-exchange",
            "actions": [
                ("exchange_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [same], "new_item_ids": [same], "payment_method_id": paid}),
            ],
        },
        {
            "id": "probe-exchange-refusals",
            "actions": [
                ("exchange_delivered_order_items", {"order_id": pending["order_id"], "item_ids": [pending["items"][0]["item_id"]], "new_item_ids": [pending["items"][0]["item_id"]], "payment_method_id": pending["payment_history"][0]["payment_method_id"]}),
                ("exchange_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [same, same, same], "new_item_ids": [same], "payment_method_id": paid}),
                ("exchange_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [same], "new_item_ids": [same, same], "payment_method_id": paid}),
                ("exchange_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [same], "new_item_ids": ["0000000000"], "payment_method_id": paid}),
                ("exchange_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [same], "new_item_ids": [same], "payment_method_id": "paypal_0"}),
            ],
        },
        {
            "id": "probe-same-item-modification",
            "actions": [
                ("modify_pending_order_items", {"order_id": pending["order_id"], "item_ids": [pending["items"][0]["item_id"]], "new_item_ids": [pending["items"][0]["item_id"]], "payment_method_id": pending["payment_history"][0]["payment_method_id"]}),
                ("cancel_pending_order", {"order_id": pending["order_id"], "reason": "no longer needed"}),
                ("modify_pending_order_address", {"order_id": pending["order_id"], **address}),
            ],
        },
        {
            "id": "probe-raw-price-difference",
            "actions": [
                ("modify_pending_order_items", {"order_id": noisy["order_id"], "item_ids": [old_id], "new_item_ids": [new_id], "payment_method_id": noisy["payment_history"][0]["payment_method_id"]}),
            ],
        },
        {
            "id": "probe-payment-then-cancel",
            "actions": [
                ("modify_pending_order_payment", {"order_id": with_card["order_id"], "payment_method_id": with_card["payment_history"][0]["payment_method_id"]}),
                ("modify_pending_order_payment", {"order_id": with_card["order_id"], "payment_method_id": "gift_card_0"}),
                ("modify_pending_order_payment", {"order_id": with_card["order_id"], "payment_method_id": gift_card(with_card)["id"]}),
                ("modify_pending_order_payment", {"order_id": with_card["order_id"], "payment_method_id": with_card["payment_history"][0]["payment_method_id"]}),
                ("cancel_pending_order", {"order_id": with_card["order_id"], "reason": "too expensive"}),
                ("cancel_pending_order", {"order_id": with_card["order_id"], "reason": "ordered by mistake"}),
                ("cancel_pending_order", {"order_id": with_card["order_id"], "reason": "ordered by mistake"}),
            ],
        },
        {
            "id": "probe-returns",
            "actions": [
                *([("return_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [same], "payment_method_id": other_method})] if other_method else []),
                ("return_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": ["0000000000"], "payment_method_id": paid}),
                ("return_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [delivered["items"][1]["item_id"], same], "payment_method_id": paid}),
                ("return_delivered_order_items", {"order_id": delivered["order_id"], "item_ids": [same], "payment_method_id": paid}),
            ],
        },
        {
            "id": "probe-unicode-address",
            "actions": [
                ("modify_user_address", {"user_id": "nobody_0", **address}),
                ("modify_user_address", {"user_id": pending["user_id"], **address}),
                ("transfer_to_human_agents", {"summary": "wants to speak to someone"}),
            ],
        },
    ]
    return probes


def airline_probes(data: Data) -> list[dict[str, Any]]:
    reservations = data["reservations"]
    some = next(r for _, r in sorted(reservations.items()) if r.get("status") != "cancelled" and len(r["passengers"]) >= 1)
    user = data["users"][some["user_id"]]
    card = next((m for m in user["payment_methods"].values() if m["source"] == "credit_card"), None)
    cert = next((m for m in user["payment_methods"].values() if m["source"] == "certificate"), None)
    leg = some["flights"][0]
    landed = next((n, d) for n, f in sorted(data["flights"].items()) for d, day in f["dates"].items() if day["status"] == "landed")
    poor = next(
        (u, m) for u, user in sorted(data["users"].items()) for m in user["payment_methods"].values()
        if m["source"] == "gift_card" and m["amount"] < 20 and user["reservations"]
    )
    poor_reservation = data["reservations"][data["users"][poor[0]]["reservations"][0]]
    same_legs = [{"flight_number": f["flight_number"], "date": f["date"]} for f in some["flights"]]
    probes: list[dict[str, Any]] = [
        {
            "id": "probe-lookups",
            "actions": [
                ("get_reservation_details", {"reservation_id": "NOPE00"}),
                ("get_user_details", {"user_id": "nobody_0"}),
                ("list_all_airports", {}),
                ("search_direct_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-20"}),
                ("search_onestop_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-20"}),
                ("search_onestop_flight", {"origin": "SFO", "destination": "JFK", "date": "2024-05-25"}),
                ("calculate", {"expression": "(350 - 122) * 2"}),
                ("get_order_details", {"order_id": "#W0000000"}),
            ],
        },
        {
            "id": "probe-refusals",
            "actions": [
                ("update_reservation_passengers", {"reservation_id": some["reservation_id"], "passengers": []}),
                ("update_reservation_baggages", {"reservation_id": some["reservation_id"], "total_baggages": 9, "nonfree_baggages": 9, "payment_id": "paypal_0"}),
                *([("update_reservation_baggages", {"reservation_id": some["reservation_id"], "total_baggages": 1, "nonfree_baggages": 1, "payment_id": cert["id"]})] if cert else []),
                ("update_reservation_flights", {"reservation_id": some["reservation_id"], "cabin": some["cabin"], "flights": [{"flight_number": "HAT999", "date": "2024-05-20"}], "payment_id": card["id"] if card else "x"}),
                ("update_reservation_flights", {"reservation_id": some["reservation_id"], "cabin": some["cabin"], "flights": [{"flight_number": leg["flight_number"], "date": "2023-01-01"}], "payment_id": card["id"] if card else "x"}),
                ("book_reservation", {"user_id": "nobody_0", "origin": "JFK", "destination": "SEA", "flight_type": "one_way", "cabin": "economy", "flights": [], "passengers": [], "payment_methods": [], "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"}),
                ("book_reservation", {"user_id": some["user_id"], "origin": "JFK", "destination": "SEA", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "HAT136", "date": "2024-05-20"}], "passengers": [{"first_name": "A", "last_name": "B", "dob": "1990-01-01"}], "payment_methods": [{"payment_id": card["id"] if card else "x", "amount": 1}], "total_baggages": 0, "nonfree_baggages": 0, "insurance": "yes"}),
            ],
        },
        {
            "id": "probe-more-refusals",
            "actions": [
                ("cancel_reservation", {"reservation_id": "NOPE00"}),
                ("update_reservation_passengers", {"reservation_id": "NOPE00", "passengers": []}),
                ("update_reservation_flights", {"reservation_id": some["reservation_id"], "cabin": some["cabin"], "flights": [{"flight_number": landed[0], "date": landed[1]}], "payment_id": card["id"] if card else "x"}),
                ("update_reservation_flights", {"reservation_id": poor_reservation["reservation_id"], "cabin": "business", "flights": [{"flight_number": f["flight_number"], "date": f["date"]} for f in poor_reservation["flights"]], "payment_id": poor[1]["id"]}),
                ("book_reservation", {"user_id": poor[0], "origin": "JFK", "destination": "ATL", "flight_type": "one_way", "cabin": "basic_economy", "flights": [{"flight_number": "HAT136", "date": "2024-05-20"}], "passengers": [{"first_name": "A", "last_name": "B", "dob": "1990-01-01"}], "payment_methods": [{"payment_id": poor[1]["id"], "amount": 52}], "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"}),
                ("book_reservation", {"user_id": poor[0], "origin": "JFK", "destination": "ATL", "flight_type": "one_way", "cabin": "basic_economy", "flights": [{"flight_number": "HAT136", "date": "2024-05-20"}], "passengers": [{"first_name": "A", "last_name": "B", "dob": "1990-01-01"}], "payment_methods": [{"payment_id": "certificate_0", "amount": 52}], "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"}),
            ],
        },
        {
            "id": "probe-cabin-change-and-booking",
            "actions": [
                ("update_reservation_flights", {"reservation_id": some["reservation_id"], "cabin": "economy" if some["cabin"] != "economy" else "business", "flights": same_legs, "payment_id": card["id"] if card else "x"}),
                ("update_reservation_flights", {"reservation_id": some["reservation_id"], "cabin": some["cabin"], "flights": same_legs, "payment_id": card["id"] if card else "x"}),
                ("book_reservation", {"user_id": some["user_id"], "origin": "JFK", "destination": "ATL", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "HAT136", "date": "2024-05-20"}], "passengers": [{"first_name": "A", "last_name": "B", "dob": "1990-01-01"}], "payment_methods": [{"payment_id": card["id"] if card else "x", "amount": 152}], "total_baggages": 1, "nonfree_baggages": 0, "insurance": "no"}),
                ("book_reservation", {"user_id": some["user_id"], "origin": "JFK", "destination": "ATL", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "HAT136", "date": "2024-05-20"}], "passengers": [{"first_name": "A", "last_name": "B", "dob": "1990-01-01"}], "payment_methods": [{"payment_id": card["id"] if card else "x", "amount": 232}], "total_baggages": 2, "nonfree_baggages": 1, "insurance": "yes"}),
            ],
        },
        {
            "id": "probe-certificates-and-cancel",
            "actions": [
                ("send_certificate", {"user_id": some["user_id"], "amount": 100}),
                ("send_certificate", {"user_id": some["user_id"], "amount": 50.5}),
                ("send_certificate", {"user_id": "nobody_0", "amount": 5}),
                ("update_reservation_baggages", {"reservation_id": some["reservation_id"], "total_baggages": some["total_baggages"] + 1, "nonfree_baggages": some["nonfree_baggages"] + 1, "payment_id": card["id"] if card else "x"}),
                ("cancel_reservation", {"reservation_id": some["reservation_id"]}),
                ("cancel_reservation", {"reservation_id": some["reservation_id"]}),
                ("transfer_to_human_agents", {"summary": "wants a refund"}),
            ],
        },
    ]
    return probes


# --------------------------------------------------------------------------- recording


def benchmark_tools(domain: str) -> tuple[dict[str, Callable[..., Any]], str]:
    """The benchmark's own tools when its package is installed, else the transcription."""
    try:
        module = __import__(f"tau_bench.envs.{domain}.tools", fromlist=["ALL_TOOLS"])
    except ImportError:
        return (RETAIL if domain == "retail" else AIRLINE), "transcription of the benchmark's public source"
    tools = {t.get_info()["function"]["name"]: t.invoke for t in module.ALL_TOOLS}
    return tools, "tau_bench package (the benchmark's own tools)"


def replay(tools: dict[str, Callable[..., Any]], fresh: Data, actions: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    data = copy.deepcopy(fresh)
    outputs = []
    for name, kwargs in actions:
        if name not in tools:
            outputs.append(f"Unknown action {name}")
            continue
        try:
            outputs.append(tools[name](data=data, **copy.deepcopy(kwargs)))
        except Exception as exc:  # the benchmark's step() turns any exception into text
            outputs.append(f"Error: {exc}")
    changed = {
        table: {key: row for key, row in rows.items() if canonical(row) != canonical(fresh[table].get(key))}
        for table, rows in data.items()
    }
    return {
        "actions": [{"name": n, "kwargs": k} for n, k in actions],
        "outputs": outputs,
        "final_hash": hashlib.sha256(canonical(data).encode("utf-8")).hexdigest(),
        "changed": {table: rows for table, rows in changed.items() if rows},
    }


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in DOMAINS:
        sys.exit("usage: record-tau-expected.py retail|airline DATA_DIR")
    domain, root = argv[0], Path(argv[1])
    spec = DOMAINS[domain]
    fresh = {t: json.loads((root / f).read_text(encoding="utf-8")) for t, f in spec["tables"].items()}
    tasks = json.loads((root / spec["tasks"]).read_text(encoding="utf-8"))
    tools, source = benchmark_tools(domain)
    episodes = []
    for i, task in enumerate(tasks):
        actions = [(a["name"], a["kwargs"]) for a in task["actions"]]
        episodes.append({"id": f"task-{i:03d}", **replay(tools, fresh, actions)})
    for probe in (retail_probes if domain == "retail" else airline_probes)(fresh):
        episodes.append({"id": probe["id"], **replay(tools, fresh, probe["actions"])})
    files = {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in [*spec["tables"].values(), spec["tasks"]]}
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{domain}_expected.json"
    record = {"domain": domain, "recorded_by": source, "data_files": files, "episodes": episodes}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    calls = sum(len(e["outputs"]) for e in episodes)
    errors = sum(1 for e in episodes for o in e["outputs"] if isinstance(o, str) and o.startswith(("Error", "Unknown action")))
    print(f"{path}: {len(episodes)} episodes ({len(tasks)} tasks), {calls} calls, {errors} errors; {source}")


if __name__ == "__main__":
    main(sys.argv[1:])
