"""The retail customer-service environment and a loader for its published data files.

The state has three tables: ``users`` (profile, default address, payment methods with
gift-card balances, order ids), ``orders`` (items, status, address, fulfilments, payment
history) and ``products`` (variants with price and availability). The agent follows a
written policy (the ``retail_wiki.md`` file); the tools enforce what the benchmark's
tools enforce, answer in its words (see ``simulacra.tasks.envs._tau``) and change the
database exactly as its tools do, so a ground truth replayed here ends in the database
the benchmark computes, and an agent reads the same tool outputs.

Order statuses: ``pending`` (can be cancelled or modified), ``processed``, ``delivered``
(can be returned or exchanged), ``cancelled``, and the statuses the tools set:
``pending (item modified)`` (after an item modification: no further change is allowed),
``return requested`` and ``exchange requested``.

Money rules, as the benchmark's tools apply them (gift-card balances are rounded to
cents after each change; amounts written to the payment history are not):

- Cancelling adds one ``refund`` per entry of the payment history, for that entry's
  amount; a refund to a gift card is credited at once. The reason is kept on the order.
- Changing the payment method needs exactly one entry (a payment) in the history; it
  adds a ``payment`` from the new method and a ``refund`` to the old one for that
  amount, debiting or crediting gift cards at once; a gift card must cover the amount.
- Modifying items appends one entry for the price difference, as computed (a float
  that may carry rounding noise, e.g. 0.04999999999999716): a ``payment`` when it is
  positive, else a ``refund`` (of 0.0 when the prices are equal); a gift card is debited
  by the difference and must cover it. A new item may be the old item itself.
- A return records the items and the refund method (the order's first payment method
  or any gift card); an exchange records the items, the method and the price
  difference rounded to cents. No money moves until the items come back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulacra.errors import ToolError
from simulacra.tasks.envs._base import EnvFactory, Environment, ToolCallRecord, tool
from simulacra.tasks.envs._policy import OneSubjectOnly, OwnRecordsOnly, RequirePriorCall
from simulacra.tasks.envs._task import EnvTask
from simulacra.tasks.envs._tau import TauEnv, dump, load_tau_domain

__all__ = ["RetailEnv", "load_tau_retail"]

PENDING = "pending"
ITEMS_MODIFIED = "pending (item modified)"
DELIVERED = "delivered"
CANCELLED = "cancelled"
RETURN_REQUESTED = "return requested"
EXCHANGE_REQUESTED = "exchange requested"
CANCEL_REASONS = ("no longer needed", "ordered by mistake")

_AUTH_TOOLS = frozenset({"find_user_id_by_email", "find_user_id_by_name_zip"})
_ORDER_TOOLS = frozenset(
    {
        "get_order_details",
        "cancel_pending_order",
        "modify_pending_order_items",
        "modify_pending_order_address",
        "modify_pending_order_payment",
        "return_delivered_order_items",
        "exchange_delivered_order_items",
    }
)
_USER_TOOLS = frozenset({"get_user_details", "modify_user_address"})


def _retail_subject(call: ToolCallRecord, env: Environment) -> str | None:
    """Whose records a retail tool call touched (None for product and utility tools)."""
    if not isinstance(call.arguments, dict):
        return None
    if call.name in _USER_TOOLS:
        user_id = call.arguments.get("user_id")
        return user_id if isinstance(user_id, str) else None
    if call.name in _ORDER_TOOLS:
        order = env.state["orders"].get(call.arguments.get("order_id", ""))
        return order.get("user_id") if isinstance(order, dict) else None
    return None


def _address(
    address1: str, address2: str, city: str, state: str, country: str, zip: str
) -> dict[str, str]:
    return {
        "address1": address1,
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip,
    }


def _first_with_id(order: dict[str, Any], item_id: str) -> dict[str, Any]:
    """The order's first item line with ``item_id`` (the benchmark's pairing rule); an
    IndexError, as the benchmark's, when there is none."""
    for item in order["items"]:
        if item["item_id"] == item_id:
            found: dict[str, Any] = item
            return found
    raise IndexError("list index out of range")


class RetailEnv(TauEnv):
    """An online shop's customer-service back office: users, orders, products."""

    name = "tau-retail"
    tables = ("users", "orders", "products")
    policy_rules = (
        RequirePriorCall(
            id="authenticate-before-write",
            description=(
                "A cancellation, modification, return or exchange requires that the user "
                "was authenticated earlier in the conversation (find_user_id_by_email or "
                "find_user_id_by_name_zip)."
            ),
            prerequisites=_AUTH_TOOLS,
        ),
        OwnRecordsOnly(
            id="own-records-only",
            description=(
                "Profile and order lookups and every change must concern the authenticated "
                "user; nobody's records are read before authentication."
            ),
            auth_tools=_AUTH_TOOLS,
            subject_of=_retail_subject,
        ),
        OneSubjectOnly(
            id="one-user-per-conversation",
            description="Only one user is helped (authenticated) per conversation.",
            auth_tools=_AUTH_TOOLS,
        ),
    )

    # -- lookups ---------------------------------------------------------------------

    def _order(self, order_id: str, *, status: str | None = None, refusal: str = "") -> Any:
        order = self.state["orders"].get(order_id)
        if order is None:
            raise ToolError("order not found")
        if status is not None and order["status"] != status:
            raise ToolError(refusal)
        return order

    def _user_methods(self, order: dict[str, Any]) -> dict[str, Any]:
        methods: dict[str, Any] = self.state["users"][order["user_id"]]["payment_methods"]
        return methods

    def _check_counts(self, order: dict[str, Any], item_ids: Sequence[str], error: str) -> None:
        """Each id may be asked for at most as many times as the order holds it."""
        held = [item["item_id"] for item in order["items"]]
        for item_id in item_ids:
            if item_ids.count(item_id) > held.count(item_id):
                raise ToolError(error.format(item_id=item_id))

    def _price_difference(
        self, order: dict[str, Any], item_ids: Sequence[str], new_item_ids: Sequence[str]
    ) -> float:
        """New minus old price over the pairs, each old id paired with the order's first
        line of that id; a ToolError when a new item is not an available variant."""
        if len(item_ids) != len(new_item_ids):
            raise ToolError("the number of items to be exchanged should match")
        products = self.state["products"]
        diff: float = 0
        for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
            item = _first_with_id(order, item_id)
            variants = products[item["product_id"]]["variants"]
            if not (new_item_id in variants and variants[new_item_id]["available"]):
                raise ToolError(f"new item {new_item_id} not found or available")
            diff += variants[new_item_id]["price"] - item["price"]
        return diff

    # -- read-only tools ---------------------------------------------------------------

    @tool
    def find_user_id_by_email(self, email: str) -> str:
        """Find a user's id by their email address.

        Args:
            email: The user's email, such as 'something@example.com'.
        """
        for user_id, user in self.state["users"].items():
            if user["email"].lower() == email.lower():
                return str(user_id)
        raise ToolError("user not found")

    @tool
    def find_user_id_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        """Find a user's id by first name, last name and the zip code of their address.

        Use it when the user cannot be found by email or does not remember it.

        Args:
            first_name: The user's first name, such as 'John'.
            last_name: The user's last name, such as 'Doe'.
            zip: The zip code of the user's default address, such as '12345'.
        """
        for user_id, user in self.state["users"].items():
            name = user["name"]
            if (
                name["first_name"].lower() == first_name.lower()
                and name["last_name"].lower() == last_name.lower()
                and user["address"]["zip"] == zip
            ):
                return str(user_id)
        raise ToolError("user not found")

    @tool
    def get_user_details(self, user_id: str) -> str:
        """Get a user's profile: name, email, default address, payment methods, orders.

        Args:
            user_id: The user's id, such as 'sara_doe_496'.
        """
        user = self.state["users"].get(user_id)
        if user is None:
            raise ToolError("user not found")
        return dump(user)

    @tool
    def get_order_details(self, order_id: str) -> str:
        """Get an order's status, items, address, fulfilments and payment history.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
        """
        return dump(self._order(order_id))

    @tool
    def get_product_details(self, product_id: str) -> str:
        """Get a product's variants (item ids, options, availability and prices).

        Args:
            product_id: The product id, such as '6086499569'. Not the same as an item id.
        """
        product = self.state["products"].get(product_id)
        if product is None:
            raise ToolError("product not found")
        return dump(product)

    @tool
    def list_all_product_types(self) -> str:
        """List the name and product id of every product type the store sells (50)."""
        names = {p["name"]: p["product_id"] for p in self.state["products"].values()}
        return dump(dict(sorted(names.items())))

    # -- pending orders ------------------------------------------------------------------

    @tool(writes=True)
    def cancel_pending_order(self, order_id: str, reason: str) -> str:
        """Cancel a pending order and refund it. Only for orders with status 'pending'.

        Every payment goes back to its method: at once for a gift card, otherwise
        within 5 to 7 business days. Explain the cancellation and get the user's
        explicit confirmation (yes) first. Returns the order after the cancellation.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            reason: Why the user cancels: exactly 'no longer needed' or
                'ordered by mistake'.
        """
        order = self._order(
            order_id, status=PENDING, refusal="non-pending order cannot be cancelled"
        )
        if reason not in CANCEL_REASONS:
            raise ToolError("invalid reason")
        refunds = []
        for entry in order["payment_history"]:
            method_id = entry["payment_method_id"]
            refunds.append(
                {
                    "transaction_type": "refund",
                    "amount": entry["amount"],
                    "payment_method_id": method_id,
                }
            )
            if "gift_card" in method_id:
                card = self._user_methods(order)[method_id]
                card["balance"] = round(card["balance"] + entry["amount"], 2)
        order["status"] = CANCELLED
        order["cancel_reason"] = reason
        order["payment_history"].extend(refunds)
        return dump(order)

    @tool(writes=True)
    def modify_pending_order_address(
        self,
        order_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
    ) -> str:
        """Change the shipping address of a pending order.

        Explain the change and get the user's explicit confirmation (yes) first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            address1: The first line of the address, such as '123 Main St'.
            address2: The second line of the address, such as 'Apt 1' (may be empty).
            city: The city, such as 'San Francisco'.
            state: The state, such as 'CA'.
            country: The country, such as 'USA'.
            zip: The zip code, such as '12345'.
        """
        order = self._order(
            order_id, status=PENDING, refusal="non-pending order cannot be modified"
        )
        order["address"] = _address(address1, address2, city, state, country, zip)
        return dump(order)

    @tool(writes=True)
    def modify_pending_order_payment(self, order_id: str, payment_method_id: str) -> str:
        """Pay for a pending order with another payment method of the same user.

        The order must have exactly one payment. The new method is charged that amount
        and the old one refunded (at once for a gift card, otherwise within 5 to 7
        business days); a gift card must have enough balance. Explain the change and
        get the user's explicit confirmation (yes) first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            payment_method_id: The new payment method, such as 'gift_card_0000000' or
                'credit_card_0000000'; it must differ from the current one.
        """
        order = self._order(
            order_id, status=PENDING, refusal="non-pending order cannot be modified"
        )
        methods = self._user_methods(order)
        if payment_method_id not in methods:
            raise ToolError("payment method not found")
        history = order["payment_history"]
        if len(history) > 1 or history[0]["transaction_type"] != "payment":
            raise ToolError("there should be exactly one payment for a pending order")
        old_id = history[0]["payment_method_id"]
        if old_id == payment_method_id:
            raise ToolError("the new payment method should be different from the current one")
        amount = history[0]["amount"]
        method = methods[payment_method_id]
        if method["source"] == "gift_card" and method["balance"] < amount:
            raise ToolError("insufficient gift card balance to pay for the order")
        history.extend(
            [
                {
                    "transaction_type": "payment",
                    "amount": amount,
                    "payment_method_id": payment_method_id,
                },
                {"transaction_type": "refund", "amount": amount, "payment_method_id": old_id},
            ]
        )
        if method["source"] == "gift_card":
            method["balance"] = round(method["balance"] - amount, 2)
        if "gift_card" in old_id:
            old = methods[old_id]
            old["balance"] = round(old["balance"] + amount, 2)
        return dump(order)

    @tool(writes=True)
    def modify_pending_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
    ) -> str:
        """Swap items of a pending order for other options of the same products.

        Can be done only once per order: the order becomes 'pending (item modified)'
        and cannot be changed or cancelled afterwards, so collect every item first.
        Each new item must be an available variant of the same product. The price
        difference is charged to, or refunded to, the given payment method; a gift card
        must cover it. Explain the change and get the user's explicit confirmation
        (yes) first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            item_ids: The item ids to replace, such as ['1008292230'] (repeat an id to
                replace several units of it).
            new_item_ids: The new item ids, in the same order as item_ids, each of the
                same product as the item at the same position.
            payment_method_id: The payment method that pays or receives the price
                difference, such as 'gift_card_0000000' or 'credit_card_0000000'.
        """
        order = self._order(
            order_id, status=PENDING, refusal="non-pending order cannot be modified"
        )
        self._check_counts(order, item_ids, "{item_id} not found")
        diff = self._price_difference(order, item_ids, new_item_ids)
        methods = self._user_methods(order)
        if payment_method_id not in methods:
            raise ToolError("payment method not found")
        method = methods[payment_method_id]
        if method["source"] == "gift_card" and method["balance"] < diff:
            raise ToolError("insufficient gift card balance to pay for the new item")
        order["payment_history"].append(
            {
                "transaction_type": "payment" if diff > 0 else "refund",
                "amount": abs(diff),
                "payment_method_id": payment_method_id,
            }
        )
        if method["source"] == "gift_card":
            method["balance"] = round(method["balance"] - diff, 2)
        variants_of = self.state["products"]
        for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
            item = _first_with_id(order, item_id)
            variant = variants_of[item["product_id"]]["variants"][new_item_id]
            item["item_id"] = new_item_id
            item["price"] = variant["price"]
            item["options"] = variant["options"]
        order["status"] = ITEMS_MODIFIED
        return dump(order)

    # -- delivered orders ---------------------------------------------------------------

    @tool(writes=True)
    def return_delivered_order_items(
        self, order_id: str, item_ids: list[str], payment_method_id: str
    ) -> str:
        """Request the return of items of a delivered order.

        The order becomes 'return requested' and the user gets an email on how to send
        the items back. The refund goes to the original payment method or to a gift
        card of the user. Explain the return and get the user's explicit confirmation
        (yes) first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            item_ids: The item ids to return, such as ['1008292230'] (an id may repeat).
            payment_method_id: The method that receives the refund: the order's original
                payment method or one of the user's gift cards.
        """
        order = self._order(
            order_id, status=DELIVERED, refusal="non-delivered order cannot be returned"
        )
        if payment_method_id not in self._user_methods(order):
            raise ToolError("payment method not found")
        if (
            "gift_card" not in payment_method_id
            and payment_method_id != order["payment_history"][0]["payment_method_id"]
        ):
            raise ToolError(
                "payment method should be either the original payment method or a gift card"
            )
        self._check_counts(order, item_ids, "some item not found")
        order["status"] = RETURN_REQUESTED
        order["return_items"] = sorted(item_ids)
        order["return_payment_method_id"] = payment_method_id
        return dump(order)

    @tool(writes=True)
    def exchange_delivered_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
    ) -> str:
        """Request the exchange of items of a delivered order for other options.

        Can be done only once per order, so collect every item first. Each new item
        must be an available variant of the same product. The price difference is paid
        by, or refunded to, the given payment method; a gift card must cover it. The
        order becomes 'exchange requested' and the user gets an email on how to send
        the items back; no new order is needed. Explain the exchange and get the user's
        explicit confirmation (yes) first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            item_ids: The item ids to exchange, such as ['1008292230'].
            new_item_ids: The new item ids, in the same order as item_ids, each of the
                same product as the item at the same position.
            payment_method_id: The payment method that pays or receives the price
                difference, such as 'gift_card_0000000' or 'credit_card_0000000'.
        """
        order = self._order(
            order_id, status=DELIVERED, refusal="non-delivered order cannot be exchanged"
        )
        self._check_counts(order, item_ids, "{item_id} not found")
        diff = round(self._price_difference(order, item_ids, new_item_ids), 2)
        methods = self._user_methods(order)
        if payment_method_id not in methods:
            raise ToolError("payment method not found")
        method = methods[payment_method_id]
        if method["source"] == "gift_card" and method["balance"] < diff:
            raise ToolError("insufficient gift card balance to pay for the price difference")
        order["status"] = EXCHANGE_REQUESTED
        order["exchange_items"] = sorted(item_ids)
        order["exchange_new_items"] = sorted(new_item_ids)
        order["exchange_payment_method_id"] = payment_method_id
        order["exchange_price_difference"] = diff
        return dump(order)

    # -- profile -------------------------------------------------------------------------

    @tool(writes=True)
    def modify_user_address(
        self,
        user_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
    ) -> str:
        """Change a user's default address.

        Explain the change and get the user's explicit confirmation (yes) first.

        Args:
            user_id: The user's id, such as 'sara_doe_496'.
            address1: The first line of the address, such as '123 Main St'.
            address2: The second line of the address, such as 'Apt 1' (may be empty).
            city: The city, such as 'San Francisco'.
            state: The state, such as 'CA'.
            country: The country, such as 'USA'.
            zip: The zip code, such as '12345'.
        """
        user = self.state["users"].get(user_id)
        if user is None:
            raise ToolError("user not found")
        user["address"] = _address(address1, address2, city, state, country, zip)
        return dump(user)


# --------------------------------------------------------------------------- loading

_DB_FILES = {
    "users": "retail_db_users.json",
    "orders": "retail_db_orders.json",
    "products": "retail_db_products.json",
}
_ORDER_ID = re.compile(r"#?W\d{7}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _private_details(instruction: str) -> dict[str, str]:
    """The identifying facts a task's user states about themselves in their goal."""
    details: dict[str, str] = {}
    name = re.search(r"[Yy]our name is ([A-Z][\w'-]*) ([A-Z][\w'-]*)", instruction)
    if name:
        details["first_name"], details["last_name"] = name.group(1), name.group(2)
    zip_code = re.search(r"zip code is (\d{5})", instruction)
    if zip_code:
        details["zip"] = zip_code.group(1)
    emails = list(dict.fromkeys(m.rstrip(".") for m in _EMAIL.findall(instruction)))
    if len(emails) == 1:
        details["email"] = emails[0]
    elif emails:
        details["emails"] = ", ".join(emails)
    orders = list(dict.fromkeys("#" + m.lstrip("#") for m in _ORDER_ID.findall(instruction)))
    if orders:
        details["order_ids"] = ", ".join(orders)
    return details


def _cancel_schema() -> dict[str, Any]:
    """The agent sees the two reasons as an enumeration, as in the benchmark's schema;
    the tool itself answers any other reason with the benchmark's refusal."""
    schema = RetailEnv.tool_specs()["cancel_pending_order"].openai_schema()
    schema["function"]["parameters"]["properties"]["reason"]["enum"] = list(CANCEL_REASONS)
    return schema


def load_tau_retail(
    data_dir: str | Path,
    *,
    tasks_file: str = "retail_tasks_dev.json",
    suite: str | None = None,
    validate: bool = True,
) -> tuple[EnvFactory, list[EnvTask]]:
    """Load the retail environment and its tasks from a directory of the data files.

    Reads ``retail_db_users.json``, ``retail_db_orders.json``, ``retail_db_products.json``,
    ``retail_wiki.md`` (the agent's policy, used as its instructions) and ``tasks_file``
    (any split in the benchmark's task format). The tasks belong to ``suite`` (default
    ``tau-retail-<split>``, the split read from the file name) and are numbered in it
    (``<suite>-000``). Each task's ``instruction`` becomes the simulated user's hidden
    goal. With ``validate`` the ground truths are replayed once here: a failing action
    is a ``TaskWarning`` naming the task (see ``validate_tasks``).
    """
    return load_tau_domain(
        RetailEnv,
        data_dir,
        declared_schemas=[_cancel_schema()],
        db_files=_DB_FILES,
        wiki="retail_wiki.md",
        tasks_file=tasks_file,
        suite=suite,
        prefix="retail",
        private_details=_private_details,
        validate=validate,
    )
