"""The airline customer-service environment and a loader for its published data files.

The state has three tables: ``flights`` (route, schedule and, per date, a status with
seats and prices while bookable), ``reservations`` (flights with prices, passengers,
payment history, baggage, insurance) and ``users`` (profile, membership, payment
methods: credit cards, gift cards with an ``amount``, travel certificates, saved
passengers, reservation ids). The scenario's time is 2024-05-15 15:00 EST.

The tools answer and change the database as the benchmark's do (see
``simulacra.tasks.envs._tau``): a booking is ``HATHAT`` (then ``HATHAU``, ``HATHAV``);
gift cards are debited as paid and certificates used up whole; a cancellation appends
a negative entry per payment and marks the reservation ``cancelled``; a flight change
charges (or, negative, refunds) the price difference to one card, keeps the stored
price of a segment that stays in the same cabin and leaves the reservation's cabin
field as it was; bags cost 50 each beyond the stored non-free count.

The benchmark's tools do not enforce its policy; the parts of it a program can check
from the calls and the data are coded rules here (``AirlineEnv.policy_rules``),
reported beside the score without changing it: at most five passengers, the payment
mix, the free bag allowance, no flight changes on basic economy, the same route, no
bag removal, when a cancellation is allowed, who may be compensated. Each is judged on
the database as it was when the call was made.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict

from simulacra.errors import ToolError
from simulacra.tasks.envs._base import EnvFactory, Environment, ToolCallRecord, tool
from simulacra.tasks.envs._policy import FunctionRule, PolicyViolation
from simulacra.tasks.envs._task import EnvTask
from simulacra.tasks.envs._tau import TauEnv, dump, load_tau_domain

__all__ = ["AirlineEnv", "FlightLeg", "Passenger", "PaymentPart", "load_tau_airline"]

NOW = datetime(2024, 5, 15, 15, 0, 0)
"""The scenario's current time (EST)."""

Cabin = Literal["basic_economy", "economy", "business"]

_AIRPORTS = {
    "SFO": "San Francisco",
    "JFK": "New York",
    "LAX": "Los Angeles",
    "ORD": "Chicago",
    "DFW": "Dallas",
    "DEN": "Denver",
    "SEA": "Seattle",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "BOS": "Boston",
    "PHX": "Phoenix",
    "IAH": "Houston",
    "LAS": "Las Vegas",
    "MCO": "Orlando",
    "EWR": "Newark",
    "CLT": "Charlotte",
    "MSP": "Minneapolis",
    "DTW": "Detroit",
    "PHL": "Philadelphia",
    "LGA": "LaGuardia",
}
_NEW_IDS = ("HATHAT", "HATHAU", "HATHAV")
_CERTIFICATE_NUMBERS = (3221322, 3221323, 3221324)
_FREE_BAGS = {
    "regular": {"basic_economy": 0, "economy": 1, "business": 2},
    "silver": {"basic_economy": 1, "economy": 2, "business": 3},
    "gold": {"basic_economy": 2, "economy": 3, "business": 3},
}
_PAYMENT_LIMITS = {"certificate": 1, "credit_card": 1, "gift_card": 3}


class FlightLeg(TypedDict):
    """One flight of a reservation.

    Attributes:
        flight_number: The flight number, such as 'HAT001'.
        date: The date of the flight, 'YYYY-MM-DD', such as '2024-05-01'.
    """

    flight_number: str
    date: str


class Passenger(TypedDict):
    """One passenger.

    Attributes:
        first_name: The passenger's first name, such as 'Noah'.
        last_name: The passenger's last name, such as 'Brown'.
        dob: The passenger's date of birth, 'YYYY-MM-DD', such as '1990-01-01'.
    """

    first_name: str
    last_name: str
    dob: str


class PaymentPart(TypedDict):
    """One payment method and the amount it pays.

    Attributes:
        payment_id: A payment method id from the user's profile, such as
            'credit_card_7815826', 'gift_card_7815826' or 'certificate_7815826'.
        amount: The amount paid with it.
    """

    payment_id: str
    amount: float


class AirlineEnv(TauEnv):
    """An airline's reservation desk: flights, reservations, users."""

    name = "tau-airline"
    tables = ("flights", "reservations", "users")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy_notes: list[PolicyViolation] = []
        """Policy concerns noted by write tools when called (kept for successful calls)."""
        self.cabins: dict[str, str] = {}
        """Cabins paid for by flight updates in this episode, by reservation (the stored
        reservation keeps its booked cabin, as the benchmark's does)."""

    # -- policy notes ------------------------------------------------------------------

    def _note(self, rule: str, message: str, tool_name: str) -> None:
        self.policy_notes.append(
            PolicyViolation(rule=rule, message=message, call_index=len(self.calls), tool=tool_name)
        )

    def _reservation(self, reservation_id: str) -> Any:
        reservation = self.state["reservations"].get(reservation_id)
        if reservation is None:
            raise ToolError("reservation not found")
        return reservation

    def _flight_day(self, flight_number: str, date: str, cabin: str, seats: int) -> Any:
        """The flight and its day, refused as the benchmark refuses them."""
        if flight_number not in self.state["flights"]:
            raise ToolError(f"flight {flight_number} not found")
        flight = self.state["flights"][flight_number]
        if date not in flight["dates"]:
            raise ToolError(f"flight {flight_number} not found on date {date}")
        day = flight["dates"][date]
        if day["status"] != "available":
            raise ToolError(f"flight {flight_number} not available on date {date}")
        if day["available_seats"][cabin] < seats:
            raise ToolError(f"not enough seats on flight {flight_number}")
        return flight, day

    def _paying_method(self, reservation: Any, payment_id: str, price: float) -> Any:
        methods = self.state["users"][reservation["user_id"]]["payment_methods"]
        if payment_id not in methods:
            raise ToolError("payment method not found")
        method = methods[payment_id]
        if method["source"] == "certificate":
            raise ToolError("certificate cannot be used to update reservation")
        if method["source"] == "gift_card" and method["amount"] < price:
            raise ToolError("gift card balance is not enough")
        return method

    # -- read-only tools ---------------------------------------------------------------

    @tool
    def get_user_details(self, user_id: str) -> str:
        """Get a user's profile: name, address, email, membership, payment methods,
        saved passengers and reservation ids.

        Args:
            user_id: The user's id, such as 'sara_doe_496'.
        """
        user = self.state["users"].get(user_id)
        if user is None:
            raise ToolError("user not found")
        return dump(user)

    @tool
    def get_reservation_details(self, reservation_id: str) -> str:
        """Get a reservation: flights with prices, passengers, payments, bags, insurance.

        Args:
            reservation_id: The reservation id, such as '8JX2WO'.
        """
        reservation = self.state["reservations"].get(reservation_id)
        if reservation is None:
            raise ToolError("user not found")  # the benchmark's wording
        return dump(reservation)

    @tool
    def list_all_airports(self) -> str:
        """List every airport the airline flies to, by code, with its city."""
        return dump(_AIRPORTS)

    @tool
    def search_direct_flight(self, origin: str, destination: str, date: str) -> str:
        """Search bookable direct flights between two airports on a date.

        Args:
            origin: The origin airport code, such as 'JFK'.
            destination: The destination airport code, such as 'LAX'.
            date: The date, 'YYYY-MM-DD', such as '2024-05-01'.
        """
        found = []
        for flight in self.state["flights"].values():
            if flight["origin"] != origin or flight["destination"] != destination:
                continue
            if date in flight["dates"] and flight["dates"][date]["status"] == "available":
                found.append(_segment(flight, flight["dates"][date]))
        return dump(found)

    @tool
    def search_onestop_flight(self, origin: str, destination: str, date: str) -> str:
        """Search bookable connections with one stop between two airports, leaving on a
        date (the second flight may be on the next day).

        Args:
            origin: The origin airport code, such as 'JFK'.
            destination: The destination airport code, such as 'LAX'.
            date: The date of the first flight, 'YYYY-MM-DD', such as '2024-05-01'.
        """
        flights = self.state["flights"].values()
        found = []
        for first in flights:
            if first["origin"] != origin:
                continue
            for second in flights:
                if second["destination"] != destination or first["destination"] != second["origin"]:
                    continue
                # as the benchmark: next day written unpadded, within May
                overnight = "+1" in first["scheduled_arrival_time_est"]
                date2 = f"2024-05-{int(date[-2:]) + 1}" if overnight else date
                if first["scheduled_arrival_time_est"] > second["scheduled_departure_time_est"]:
                    continue
                if date not in first["dates"] or date2 not in second["dates"]:
                    continue
                if (
                    first["dates"][date]["status"] != "available"
                    or second["dates"][date2]["status"] != "available"
                ):
                    continue
                leg1 = _segment(first, first["dates"][date])
                leg1["date"] = date
                # as the benchmark: the second leg shows its data of the first leg's date
                leg2 = _segment(second, second["dates"][date])
                leg2["date"] = date2
                found.append([leg1, leg2])
        return dump(found)

    # -- writes ------------------------------------------------------------------------

    @tool(writes=True)
    def book_reservation(
        self,
        user_id: str,
        origin: str,
        destination: str,
        flight_type: Literal["one_way", "round_trip"],
        cabin: Cabin,
        flights: list[FlightLeg],
        passengers: list[Passenger],
        payment_methods: list[PaymentPart],
        total_baggages: int,
        nonfree_baggages: int,
        insurance: Literal["yes", "no"],
    ) -> str:
        """Book a reservation for passengers on flights in one cabin.

        The price is each flight's current price in the cabin per passenger, 30 per
        passenger for insurance and 50 per non-free bag; the payments must add up to it
        exactly, from methods in the user's profile (a gift card or certificate must
        cover its part; a certificate is used up). List the details and get the user's
        explicit confirmation (yes) first.

        Args:
            user_id: The id of the user who books, such as 'sara_doe_496'.
            origin: The origin airport code, such as 'SFO'.
            destination: The destination airport code, such as 'JFK'.
            flight_type: 'one_way' or 'round_trip'.
            cabin: 'basic_economy', 'economy' or 'business'.
            flights: Every flight of the trip, in order.
            passengers: Every passenger (at most five).
            payment_methods: The payment methods and the amount each pays.
            total_baggages: The number of checked bags in the reservation.
            nonfree_baggages: How many of them are paid for (beyond the free allowance).
            insurance: 'yes' or 'no' for travel insurance.
        """
        users, reservations = self.state["users"], self.state["reservations"]
        if user_id not in users:
            raise ToolError("user not found")
        user = users[user_id]
        self._check_booking(
            user, cabin, passengers, payment_methods, total_baggages, nonfree_baggages
        )
        reservation_id = next((r for r in _NEW_IDS if r not in reservations), _NEW_IDS[-1])
        legs: list[dict[str, Any]] = copy.deepcopy(list(map(dict, flights)))
        reservation = {
            "reservation_id": reservation_id,
            "user_id": user_id,
            "origin": origin,
            "destination": destination,
            "flight_type": flight_type,
            "cabin": cabin,
            "flights": legs,
            "passengers": passengers,
            "payment_history": payment_methods,
            "created_at": NOW.isoformat(),
            "total_baggages": total_baggages,
            "nonfree_baggages": nonfree_baggages,
            "insurance": insurance,
        }
        total: float = 0
        for leg in legs:
            flight, day = self._flight_day(
                leg["flight_number"], leg["date"], cabin, len(passengers)
            )
            leg["price"] = day["prices"][cabin]
            leg["origin"] = flight["origin"]
            leg["destination"] = flight["destination"]
            total += leg["price"] * len(passengers)
        if insurance == "yes":
            total += 30 * len(passengers)
        total += 50 * nonfree_baggages
        for part in payment_methods:
            payment_id = part["payment_id"]
            if payment_id not in user["payment_methods"]:
                raise ToolError(f"payment method {payment_id} not found")
            method = user["payment_methods"][payment_id]
            if (
                method["source"] in ("gift_card", "certificate")
                and method["amount"] < part["amount"]
            ):
                raise ToolError(f"not enough balance in payment method {payment_id}")
        paid = sum(part["amount"] for part in payment_methods)
        if paid != total:
            raise ToolError(
                f"payment amount does not add up, total price is {total}, but paid {paid}"
            )
        for part in payment_methods:
            method = user["payment_methods"][part["payment_id"]]
            if method["source"] == "gift_card":
                method["amount"] -= part["amount"]
            elif method["source"] == "certificate":
                del user["payment_methods"][part["payment_id"]]
        reservations[reservation_id] = reservation
        user["reservations"].append(reservation_id)
        return dump(reservation)

    def _check_booking(
        self,
        user: Any,
        cabin: str,
        passengers: Sequence[Passenger],
        payments: Sequence[PaymentPart],
        total_baggages: int,
        nonfree_baggages: int,
    ) -> None:
        if len(passengers) > 5:
            self._note(
                "at-most-five-passengers",
                f"a booking for {len(passengers)} passengers (at most five)",
                "book_reservation",
            )
        sources = Counter(
            user["payment_methods"][p["payment_id"]]["source"]
            for p in payments
            if p["payment_id"] in user["payment_methods"]
        )
        for source, limit in _PAYMENT_LIMITS.items():
            if sources[source] > limit:
                self._note(
                    "payment-mix",
                    f"{sources[source]} {source.replace('_', ' ')}s in one booking "
                    f"(at most {limit})",
                    "book_reservation",
                )
        free = _FREE_BAGS.get(user.get("membership", "regular"), _FREE_BAGS["regular"])[cabin]
        owed = max(0, total_baggages - free * len(passengers))
        if nonfree_baggages != owed:
            self._note(
                "bag-allowance",
                f"{nonfree_baggages} paid bags booked, but {total_baggages} bags for "
                f"{len(passengers)} {cabin} passenger(s) of a {user.get('membership')} member "
                f"means {owed}",
                "book_reservation",
            )

    @tool(writes=True)
    def cancel_reservation(self, reservation_id: str) -> str:
        """Cancel a whole reservation; every payment is refunded to its method.

        Check first that the policy allows it (within 24 hours of booking, a flight
        cancelled by the airline, business cabin, or insurance with a covered reason)
        and that no flight of it has been flown.

        Args:
            reservation_id: The reservation id, such as 'ZFA04Y'.
        """
        reservation = self._reservation(reservation_id)
        self._check_cancellation(reservation)
        refunds = [
            {"payment_id": p["payment_id"], "amount": -p["amount"]}
            for p in reservation["payment_history"]
        ]
        reservation["payment_history"].extend(refunds)
        reservation["status"] = "cancelled"
        return dump(reservation)

    def _check_cancellation(self, reservation: Any) -> None:
        days = [self._day_of(leg) for leg in reservation["flights"]]
        if any(day.get("status") in ("landed", "flying") for day in days):
            self._note(
                "unflown-trips-only",
                f"reservation {reservation['reservation_id']} has a flight already flown",
                "cancel_reservation",
            )
            return
        booked = datetime.fromisoformat(reservation["created_at"])
        if (
            NOW - booked <= timedelta(hours=24)
            or any(day.get("status") == "cancelled" for day in days)
            or reservation["cabin"] == "business"
            or reservation.get("insurance") == "yes"
        ):
            return
        self._note(
            "cancellation-allowed",
            f"reservation {reservation['reservation_id']} ({reservation['cabin']}, no "
            "insurance, booked more than 24 hours ago, no flight cancelled) may not be "
            "cancelled",
            "cancel_reservation",
        )

    def _day_of(self, leg: Any) -> Any:
        flight = self.state["flights"].get(leg.get("flight_number"), {})
        return flight.get("dates", {}).get(leg.get("date"), {})

    @tool(writes=True)
    def update_reservation_baggages(
        self, reservation_id: str, total_baggages: int, nonfree_baggages: int, payment_id: str
    ) -> str:
        """Change the checked bags of a reservation (bags can be added, not removed).

        Each paid bag beyond those already paid for costs 50, charged to a credit card
        or gift card of the user. Get the user's explicit confirmation (yes) first.

        Args:
            reservation_id: The reservation id, such as 'ZFA04Y'.
            total_baggages: The new total number of checked bags.
            nonfree_baggages: The new number of paid bags.
            payment_id: The card that pays, such as 'credit_card_7815826' or
                'gift_card_7815826' (not a certificate).
        """
        reservation = self._reservation(reservation_id)
        price = 50 * max(0, nonfree_baggages - reservation["nonfree_baggages"])
        method = self._paying_method(reservation, payment_id, price)
        if total_baggages < reservation["total_baggages"]:
            self._note(
                "no-bag-removal",
                f"bags of {reservation_id} go from {reservation['total_baggages']} to "
                f"{total_baggages}",
                "update_reservation_baggages",
            )
        reservation["total_baggages"] = total_baggages
        reservation["nonfree_baggages"] = nonfree_baggages
        if method["source"] == "gift_card":
            method["amount"] -= price
        if price != 0:
            reservation["payment_history"].append({"payment_id": payment_id, "amount": price})
        return dump(reservation)

    @tool(writes=True)
    def update_reservation_flights(
        self, reservation_id: str, cabin: Cabin, flights: list[FlightLeg], payment_id: str
    ) -> str:
        """Change the flights (or the cabin) of a reservation.

        Give every flight of the new trip, kept ones included. A kept flight in the
        same cabin keeps its price; others cost today's price. The difference for all
        passengers is charged to, or refunded to, one credit card or gift card. Basic
        economy flights cannot be changed, nor the origin, destination or trip type.
        Get the user's explicit confirmation (yes) first.

        Args:
            reservation_id: The reservation id, such as 'ZFA04Y'.
            cabin: The cabin of every flight: 'basic_economy', 'economy' or 'business'.
            flights: Every flight of the reservation after the change, in order.
            payment_id: The card that pays or is refunded, such as
                'credit_card_7815826' or 'gift_card_7815826' (not a certificate).
        """
        reservation = self._reservation(reservation_id)
        seats = len(reservation["passengers"])
        legs: list[dict[str, Any]] = copy.deepcopy(list(map(dict, flights)))
        total: float = 0
        for leg in legs:
            kept = [
                old
                for old in reservation["flights"]
                if old["flight_number"] == leg["flight_number"]
                and old["date"] == leg["date"]
                and cabin == reservation["cabin"]
            ]
            if kept:
                total += kept[0]["price"] * seats
                leg["price"] = kept[0]["price"]
                leg["origin"] = kept[0]["origin"]
                leg["destination"] = kept[0]["destination"]
                continue
            flight, day = self._flight_day(leg["flight_number"], leg["date"], cabin, seats)
            leg["price"] = day["prices"][cabin]
            leg["origin"] = flight["origin"]
            leg["destination"] = flight["destination"]
            total += leg["price"] * seats
        total -= sum(old["price"] for old in reservation["flights"]) * seats
        method = self._paying_method(reservation, payment_id, total)
        self._check_flight_change(reservation, legs)
        if method["source"] == "gift_card":
            method["amount"] -= total
        reservation["flights"] = legs
        if total != 0:
            reservation["payment_history"].append({"payment_id": payment_id, "amount": total})
        self.cabins[reservation_id] = cabin
        return dump(reservation)

    def _check_flight_change(self, reservation: Any, legs: list[Any]) -> None:
        rid = reservation["reservation_id"]
        old = [(f["flight_number"], f["date"]) for f in reservation["flights"]]
        new = [(f["flight_number"], f["date"]) for f in legs]
        cabin = self.cabins.get(rid, reservation["cabin"])
        if cabin == "basic_economy" and old != new:
            self._note(
                "basic-economy-flights-fixed",
                f"the flights of basic economy reservation {rid} were changed",
                "update_reservation_flights",
            )
        if not legs:
            return
        route_kept = legs[0]["origin"] == reservation["origin"]
        if reservation["flight_type"] == "one_way":
            route_kept = route_kept and legs[-1]["destination"] == reservation["destination"]
        else:
            route_kept = (
                route_kept
                and legs[-1]["destination"] == reservation["origin"]
                and any(leg["destination"] == reservation["destination"] for leg in legs)
            )
        if not route_kept:
            path = " → ".join([legs[0]["origin"], *(leg["destination"] for leg in legs)])
            self._note(
                "same-route",
                f"reservation {rid} ({reservation['flight_type']} {reservation['origin']}–"
                f"{reservation['destination']}) would fly {path}",
                "update_reservation_flights",
            )

    @tool(writes=True)
    def update_reservation_passengers(
        self, reservation_id: str, passengers: list[Passenger]
    ) -> str:
        """Change the passengers' details of a reservation (not their number).

        Get the user's explicit confirmation (yes) first.

        Args:
            reservation_id: The reservation id, such as 'ZFA04Y'.
            passengers: Every passenger after the change, as many as before.
        """
        reservation = self._reservation(reservation_id)
        if len(passengers) != len(reservation["passengers"]):
            raise ToolError("number of passengers does not match")
        reservation["passengers"] = passengers
        return dump(reservation)

    @tool(writes=True)
    def send_certificate(self, user_id: str, amount: float) -> str:
        """Add a travel certificate of an amount to a user's payment methods.

        Only as the policy's gesture for a complaint about a cancelled or delayed flight.

        Args:
            user_id: The user's id, such as 'sara_doe_496'.
            amount: The certificate's amount.
        """
        users = self.state["users"]
        if user_id not in users:
            raise ToolError("user not found")
        user = users[user_id]
        self._check_compensation(user)
        for number in _CERTIFICATE_NUMBERS:
            payment_id = f"certificate_{number}"
            if payment_id not in user["payment_methods"]:
                user["payment_methods"][payment_id] = {
                    "source": "certificate",
                    "amount": amount,
                    "id": payment_id,
                }
                return f"Certificate {payment_id} added to user {user_id} with amount {amount}."
        return ""  # the benchmark returns nothing once three certificates were sent

    def _check_compensation(self, user: Any) -> None:
        if user.get("membership") in ("silver", "gold"):
            return
        reservations = [self.state["reservations"].get(r, {}) for r in user["reservations"]]
        if any(r.get("insurance") == "yes" or r.get("cabin") == "business" for r in reservations):
            return
        self._note(
            "compensation-eligibility",
            "a certificate for a regular member with no insured or business reservation",
            "send_certificate",
        )


def _segment(flight: Any, day: Any) -> dict[str, Any]:
    """A flight without its calendar, with one day's status, seats and prices."""
    row = {key: value for key, value in flight.items() if key != "dates"}
    row.update(day)
    return row


def _noted(calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
    notes = getattr(env, "policy_notes", [])
    ok = {call.index for call in calls if call.ok}
    return [note for note in notes if note.call_index in ok]


def _rule(rule_id: str, description: str) -> FunctionRule:
    def check(calls: Sequence[ToolCallRecord], env: Environment) -> list[PolicyViolation]:
        return [note for note in _noted(calls, env) if note.rule == rule_id]

    return FunctionRule(id=rule_id, description=description, func=check)


AirlineEnv.policy_rules = (
    _rule("at-most-five-passengers", "A reservation has at most five passengers."),
    _rule(
        "payment-mix",
        "A booking uses at most one certificate, one credit card and three gift cards.",
    ),
    _rule(
        "bag-allowance",
        "Paid bags are the bags beyond the free allowance of the member's tier and cabin.",
    ),
    _rule("basic-economy-flights-fixed", "The flights of a basic economy reservation stay."),
    _rule("same-route", "A flight change keeps the origin, destination and trip type."),
    _rule("no-bag-removal", "Checked bags can be added, not removed."),
    _rule(
        "cancellation-allowed",
        "Cancel only within 24 hours of booking, after an airline cancellation, in "
        "business, or with insurance.",
    ),
    _rule("unflown-trips-only", "Only a trip with no flight flown can be cancelled."),
    _rule(
        "compensation-eligibility",
        "Certificates only for silver/gold members or insured or business travellers.",
    ),
)


# --------------------------------------------------------------------------- loading

_DB_FILES = {
    "flights": "airline_db_flights.json",
    "reservations": "airline_db_reservations.json",
    "users": "airline_db_users.json",
}
_USER_ID = re.compile(r"user id is ([a-z]+_[a-z]+_\d+)")
_RESERVATION_ID = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}\b")


def _private_details(instruction: str) -> dict[str, str]:
    """The facts an airline task's user states about themselves: user id, reservations."""
    details: dict[str, str] = {}
    user = _USER_ID.search(instruction)
    if user:
        details["user_id"] = user.group(1)
    reservations = list(dict.fromkeys(_RESERVATION_ID.findall(instruction)))
    if reservations:
        details["reservation_ids"] = ", ".join(reservations)
    return details


def load_tau_airline(
    data_dir: str | Path,
    *,
    tasks_file: str = "airline_tasks_dev.json",
    suite: str | None = None,
    validate: bool = True,
) -> tuple[EnvFactory, list[EnvTask]]:
    """Load the airline environment and its tasks from a directory of the data files.

    Reads ``airline_db_flights.json``, ``airline_db_reservations.json``,
    ``airline_db_users.json``, ``airline_wiki.md`` (the agent's policy) and ``tasks_file``
    (the benchmark's task format); suite and ids as for ``load_tau_retail``.
    """
    return load_tau_domain(
        AirlineEnv,
        data_dir,
        db_files=_DB_FILES,
        wiki="airline_wiki.md",
        tasks_file=tasks_file,
        suite=suite,
        prefix="airline",
        private_details=_private_details,
        validate=validate,
    )
