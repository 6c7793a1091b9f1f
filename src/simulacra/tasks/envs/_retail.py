"""The retail customer-service environment and a loader for its published data files.

The state has three tables: ``users`` (profile, default address, payment methods with
gift-card balances, order ids), ``orders`` (items, status, address, fulfilments, payment
history) and ``products`` (variants with price and availability). The agent follows a
written policy (the ``retail_wiki.md`` file); the tools enforce the parts of it that a
tool can enforce.

Order statuses: ``pending`` (can be cancelled or modified), ``processed``, ``delivered``
(can be returned or exchanged), ``cancelled``, and the statuses the tools set:
``pending (item modified)`` (after an item modification: no further change is allowed),
``return requested`` and ``exchange requested``.

Money rules, as the tools apply them (amounts are rounded to cents after every step):

- Cancelling refunds what was paid, per payment method, with one ``refund`` entry each;
  gift cards are credited at once. The reason is kept on the order (``cancel_reason``).
- Changing the payment method of a pending order adds a ``payment`` from the new
  method and a ``refund`` to the old one for the amount paid; gift cards are debited or
  credited at once, and a gift card must cover the amount.
- Modifying items charges (``payment``) or refunds (``refund``) the price difference
  to the chosen method; a gift card must cover a positive difference.
- A return or an exchange only records the request (items, method, price difference)
  on the order; no money moves until the items come back.
"""

from __future__ import annotations

import ast
import operator
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from simulacra._records import read_json
from simulacra.errors import ConfigError, ToolError
from simulacra.tasks.envs._base import EnvFactory, Environment, ToolCallRecord, tool
from simulacra.tasks.envs._policy import OneSubjectOnly, OwnRecordsOnly, RequirePriorCall
from simulacra.tasks.envs._task import Action, EnvTask, validate_tasks

__all__ = ["RetailEnv", "load_tau_retail"]

PENDING = "pending"
ITEMS_MODIFIED = "pending (item modified)"
DELIVERED = "delivered"
CANCELLED = "cancelled"
RETURN_REQUESTED = "return requested"
EXCHANGE_REQUESTED = "exchange requested"

CancelReason = Literal["no longer needed", "ordered by mistake"]

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


def _money(value: float) -> float:
    return round(value + 0.0, 2)


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


class RetailEnv(Environment):
    """An online shop's customer-service back office: users, orders, products."""

    name = "tau-retail"
    tables = ("users", "orders", "products")
    stop_tools = frozenset({"transfer_to_human_agents"})
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

    def _order(self, order_id: str) -> dict[str, Any]:
        order = self.state["orders"].get(order_id)
        if not isinstance(order, dict):
            hint = (
                "" if order_id.startswith("#") else " (order ids start with '#', e.g. '#W0000000')"
            )
            raise ToolError(f"order not found: {order_id!r}{hint}")
        return order

    def _user(self, user_id: str) -> dict[str, Any]:
        return self.row("users", user_id, what="user")

    def _payment_method(self, user: dict[str, Any], payment_method_id: str) -> dict[str, Any]:
        method = user["payment_methods"].get(payment_method_id)
        if not isinstance(method, dict):
            raise ToolError(f"payment method not found for this user: {payment_method_id!r}")
        return method

    @staticmethod
    def _require_status(order: dict[str, Any], status: str, action: str) -> None:
        if order["status"] != status:
            raise ToolError(
                f"{action} needs a {status!r} order; order {order['order_id']} is "
                f"{order['status']!r}"
            )

    @staticmethod
    def _net_paid(order: dict[str, Any]) -> dict[str, float]:
        """Amount paid minus refunded, per payment method, in first-use order."""
        net: dict[str, float] = {}
        for entry in order["payment_history"]:
            sign = 1.0 if entry["transaction_type"] == "payment" else -1.0
            method = entry["payment_method_id"]
            net[method] = _money(net.get(method, 0.0) + sign * entry["amount"])
        return net

    @staticmethod
    def _adjust_gift_card(method: dict[str, Any], delta: float) -> None:
        if method.get("source") == "gift_card" and delta:
            method["balance"] = _money(method.get("balance", 0) + delta)

    def _check_items(self, order: dict[str, Any], item_ids: Sequence[str]) -> None:
        if not item_ids:
            raise ToolError("item_ids must list at least one item")
        have = Counter(item["item_id"] for item in order["items"])
        for item_id, count in Counter(item_ids).items():
            if have[item_id] == 0:
                raise ToolError(f"item {item_id!r} is not in order {order['order_id']}")
            if count > have[item_id]:
                raise ToolError(
                    f"item {item_id!r} appears {count} times but the order has {have[item_id]}"
                )

    def _replacements(
        self, order: dict[str, Any], item_ids: Sequence[str], new_item_ids: Sequence[str]
    ) -> tuple[list[tuple[int, dict[str, Any]]], float]:
        """Pair each old item of the order with its new variant; return pairs and the
        price difference (new minus old)."""
        self._check_items(order, item_ids)
        if len(item_ids) != len(new_item_ids):
            raise ToolError("item_ids and new_item_ids must have the same length")
        used: set[int] = set()
        pairs: list[tuple[int, dict[str, Any]]] = []
        diff = 0.0
        for old_id, new_id in zip(item_ids, new_item_ids, strict=True):
            index = next(
                i
                for i, item in enumerate(order["items"])
                if item["item_id"] == old_id and i not in used
            )
            used.add(index)
            old = order["items"][index]
            product = self.state["products"].get(old["product_id"])
            if not isinstance(product, dict):
                raise ToolError(f"product not found: {old['product_id']!r}")
            variant = product["variants"].get(new_id)
            if not isinstance(variant, dict):
                raise ToolError(
                    f"new item {new_id!r} is not a variant of {product['name']} "
                    f"(product {product['product_id']}); the product type cannot change"
                )
            if new_id == old_id:
                raise ToolError(f"new item {new_id!r} is the same as the old item")
            if not variant.get("available", False):
                raise ToolError(f"new item {new_id!r} is not available")
            diff += variant["price"] - old["price"]
            pairs.append((index, variant))
        return pairs, _money(diff)

    # -- read-only tools ---------------------------------------------------------------

    @tool
    def find_user_id_by_email(self, email: str) -> str:
        """Find a user's id by their email address.

        Args:
            email: The user's email, such as 'something@example.com'.
        """
        wanted = email.strip().lower()
        for user_id, user in self.state["users"].items():
            if str(user.get("email", "")).lower() == wanted:
                return str(user_id)
        raise ToolError("user not found")

    @tool
    def find_user_id_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        """Find a user's id by first name, last name and the zip code of their address.

        Args:
            first_name: The user's first name, such as 'John'.
            last_name: The user's last name, such as 'Doe'.
            zip: The zip code of the user's default address, such as '12345'.
        """
        first, last, code = first_name.strip().lower(), last_name.strip().lower(), zip.strip()
        for user_id, user in self.state["users"].items():
            name = user["name"]
            if (
                name["first_name"].lower() == first
                and name["last_name"].lower() == last
                and user["address"]["zip"] == code
            ):
                return str(user_id)
        raise ToolError("user not found")

    @tool
    def get_user_details(self, user_id: str) -> dict[str, Any]:
        """Get a user's profile: name, email, default address, payment methods, orders.

        Args:
            user_id: The user's id, such as 'sara_doe_496'.
        """
        return self._user(user_id)

    @tool
    def get_order_details(self, order_id: str) -> dict[str, Any]:
        """Get an order's status, items, address, fulfilments and payment history.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
        """
        return self._order(order_id)

    @tool
    def get_product_details(self, product_id: str) -> dict[str, Any]:
        """Get a product's variants (item ids, options, availability and prices).

        Args:
            product_id: The product id, such as '6086499569'. Not the same as an item id.
        """
        return self.row("products", product_id, what="product")

    @tool
    def list_all_product_types(self) -> dict[str, str]:
        """List the name and product id of every product type the store sells."""
        products = self.state["products"].values()
        return {p["name"]: p["product_id"] for p in sorted(products, key=lambda p: p["name"])}

    # -- pending orders ------------------------------------------------------------------

    @tool(writes=True)
    def cancel_pending_order(self, order_id: str, reason: CancelReason) -> dict[str, Any]:
        """Cancel a pending order and refund it. Only for orders with status 'pending'.

        The amount paid goes back to the original payment method: at once for a gift
        card, otherwise within 5 to 7 business days. Confirm the order id and the
        reason with the user first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            reason: Why the user cancels: 'no longer needed' or 'ordered by mistake'.
        """
        order = self._order(order_id)
        self._require_status(order, PENDING, "cancellation")
        user = self._user(order["user_id"])
        for method_id, amount in self._net_paid(order).items():
            if amount <= 0:
                continue
            order["payment_history"].append(
                {"transaction_type": "refund", "amount": amount, "payment_method_id": method_id}
            )
            method = user["payment_methods"].get(method_id)
            if isinstance(method, dict):
                self._adjust_gift_card(method, amount)
        order["status"] = CANCELLED
        order["cancel_reason"] = reason
        return order

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
    ) -> dict[str, Any]:
        """Change the shipping address of a pending order.

        Confirm the new address with the user first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            address1: The first line of the address, such as '123 Main St'.
            address2: The second line of the address, such as 'Apt 1' (may be empty).
            city: The city, such as 'San Francisco'.
            state: The state, such as 'CA'.
            country: The country, such as 'USA'.
            zip: The zip code, such as '12345'.
        """
        order = self._order(order_id)
        self._require_status(order, PENDING, "an address change")
        order["address"] = _address(address1, address2, city, state, country, zip)
        return order

    @tool(writes=True)
    def modify_pending_order_payment(self, order_id: str, payment_method_id: str) -> dict[str, Any]:
        """Pay for a pending order with a different payment method of the same user.

        The new method is charged the amount paid and the old one refunded (at once for
        a gift card, otherwise within 5 to 7 business days). A gift card must have
        enough balance. Confirm with the user first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            payment_method_id: The new payment method, such as 'gift_card_0000000' or
                'credit_card_0000000'; it must differ from the current one.
        """
        order = self._order(order_id)
        self._require_status(order, PENDING, "a payment change")
        user = self._user(order["user_id"])
        new_method = self._payment_method(user, payment_method_id)
        payments = [e for e in order["payment_history"] if e["transaction_type"] == "payment"]
        if not payments:
            raise ToolError(f"order {order_id} has no payment to move")
        current = payments[-1]["payment_method_id"]
        if payment_method_id == current:
            raise ToolError("the new payment method must differ from the current one")
        amount = self._net_paid(order).get(current, 0.0)
        if amount <= 0:
            raise ToolError(f"order {order_id} has nothing paid to move")
        if new_method["source"] == "gift_card" and new_method.get("balance", 0) < amount:
            raise ToolError("the gift card balance is not enough to pay for the order")
        order["payment_history"].extend(
            [
                {
                    "transaction_type": "payment",
                    "amount": amount,
                    "payment_method_id": payment_method_id,
                },
                {"transaction_type": "refund", "amount": amount, "payment_method_id": current},
            ]
        )
        self._adjust_gift_card(new_method, -amount)
        old_method = user["payment_methods"].get(current)
        if isinstance(old_method, dict):
            self._adjust_gift_card(old_method, amount)
        return order

    @tool(writes=True)
    def modify_pending_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
    ) -> dict[str, Any]:
        """Swap items of a pending order for other options of the same products.

        Can be done only once per order: the order becomes 'pending (item modified)'
        and cannot be changed or cancelled afterwards, so collect every item first.
        Each new item must be an available variant of the same product. The price
        difference is charged to, or refunded to, the given payment method; a gift card
        must cover a positive difference. Confirm with the user first.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            item_ids: The item ids to replace, such as ['1008292230'] (repeat an id to
                replace several units of it).
            new_item_ids: The new item ids, in the same order as item_ids.
            payment_method_id: The payment method that pays or receives the price
                difference, such as 'gift_card_0000000' or 'credit_card_0000000'.
        """
        order = self._order(order_id)
        self._require_status(order, PENDING, "an item modification")
        user = self._user(order["user_id"])
        method = self._payment_method(user, payment_method_id)
        pairs, diff = self._replacements(order, item_ids, new_item_ids)
        if method["source"] == "gift_card" and diff > 0 and method.get("balance", 0) < diff:
            raise ToolError("the gift card balance is not enough to pay the price difference")
        for index, variant in pairs:
            item = order["items"][index]
            item["item_id"] = variant["item_id"]
            item["price"] = variant["price"]
            item["options"] = dict(variant["options"])
        if diff:
            order["payment_history"].append(
                {
                    "transaction_type": "payment" if diff > 0 else "refund",
                    "amount": abs(diff),
                    "payment_method_id": payment_method_id,
                }
            )
            self._adjust_gift_card(method, -diff)
        order["status"] = ITEMS_MODIFIED
        return order

    # -- delivered orders ---------------------------------------------------------------

    @tool(writes=True)
    def return_delivered_order_items(
        self, order_id: str, item_ids: list[str], payment_method_id: str
    ) -> dict[str, Any]:
        """Request the return of items of a delivered order.

        The order becomes 'return requested' and the user gets an email on how to send
        the items back. The refund goes to the original payment method or to a gift
        card of the user. Confirm the order, items and refund method with the user.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            item_ids: The item ids to return, such as ['1008292230'].
            payment_method_id: The method that receives the refund: the order's original
                payment method or one of the user's gift cards.
        """
        order = self._order(order_id)
        self._require_status(order, DELIVERED, "a return")
        user = self._user(order["user_id"])
        method = self._payment_method(user, payment_method_id)
        self._check_items(order, item_ids)
        paid_with = {
            e["payment_method_id"]
            for e in order["payment_history"]
            if e["transaction_type"] == "payment"
        }
        if payment_method_id not in paid_with and method["source"] != "gift_card":
            raise ToolError("the refund must go to the original payment method or to a gift card")
        order["status"] = RETURN_REQUESTED
        order["return_items"] = sorted(item_ids)
        order["return_payment_method_id"] = payment_method_id
        return order

    @tool(writes=True)
    def exchange_delivered_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
    ) -> dict[str, Any]:
        """Request the exchange of items of a delivered order for other options.

        Can be done only once per order, so collect every item first. Each new item
        must be an available variant of the same product. The price difference is paid
        by, or refunded to, the given payment method; a gift card must cover a positive
        difference. The order becomes 'exchange requested' and the user gets an email
        on how to send the items back; no new order is needed. Confirm with the user.

        Args:
            order_id: The order id, such as '#W0000000' (with the leading '#').
            item_ids: The item ids to exchange, such as ['1008292230'].
            new_item_ids: The new item ids, in the same order as item_ids.
            payment_method_id: The payment method that pays or receives the price
                difference, such as 'gift_card_0000000' or 'credit_card_0000000'.
        """
        order = self._order(order_id)
        self._require_status(order, DELIVERED, "an exchange")
        user = self._user(order["user_id"])
        method = self._payment_method(user, payment_method_id)
        _, diff = self._replacements(order, item_ids, new_item_ids)
        if method["source"] == "gift_card" and diff > 0 and method.get("balance", 0) < diff:
            raise ToolError("the gift card balance is not enough to pay the price difference")
        order["status"] = EXCHANGE_REQUESTED
        order["exchange_items"] = sorted(item_ids)
        order["exchange_new_items"] = sorted(new_item_ids)
        order["exchange_payment_method_id"] = payment_method_id
        order["exchange_price_difference"] = diff
        return order

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
    ) -> dict[str, Any]:
        """Change a user's default address. Confirm the new address with the user first.

        Args:
            user_id: The user's id, such as 'sara_doe_496'.
            address1: The first line of the address, such as '123 Main St'.
            address2: The second line of the address, such as 'Apt 1' (may be empty).
            city: The city, such as 'San Francisco'.
            state: The state, such as 'CA'.
            country: The country, such as 'USA'.
            zip: The zip code, such as '12345'.
        """
        user = self._user(user_id)
        user["address"] = _address(address1, address2, city, state, country, zip)
        return user

    # -- utilities -----------------------------------------------------------------------

    @tool
    def calculate(self, expression: str) -> str:
        """Evaluate an arithmetic expression and return the result rounded to 2 decimals.

        Args:
            expression: Numbers with +, -, *, / and parentheses, such as '(19.99 + 5) * 2'.
        """
        return str(_evaluate(expression))

    @tool
    def think(self, thought: str) -> str:
        """Think out loud. Changes nothing and shows nothing to the user.

        Args:
            thought: The reasoning to write down.
        """
        return ""

    @tool
    def transfer_to_human_agents(self, summary: str) -> str:
        """Hand the conversation to a human agent, with a summary of the user's issue.

        Only when the user asks for a human or the request cannot be handled with the
        other tools. This ends the conversation.

        Args:
            summary: A short summary of the user's issue.
        """
        return "Transfer successful"


def _address(
    address1: str, address2: str, city: str, state: str, country: str, zip: str
) -> dict[str, str]:
    return {
        "address1": address1,
        "address2": address2,
        "city": city,
        "country": country,
        "state": state,
        "zip": zip,
    }


_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _evaluate(expression: str) -> float:
    if not expression.strip():
        raise ToolError("the expression is empty")
    if len(expression) > 500 or not re.fullmatch(r"[0-9.+\-*/() \t]+", expression):
        raise ToolError("only numbers, + - * / and parentheses are allowed")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"invalid expression: {exc.msg}") from exc

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        raise ToolError("only numbers, + - * / and parentheses are allowed")

    try:
        return round(walk(tree), 2)
    except ZeroDivisionError as exc:
        raise ToolError("division by zero") from exc


# --------------------------------------------------------------------------- loading

_DB_FILES = {
    "users": "retail_db_users.json",
    "orders": "retail_db_orders.json",
    "products": "retail_db_products.json",
}
_ORDER_ID = re.compile(r"#?W\d{7}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _read_json(path: Path) -> Any:
    return read_json(path, what="data file")


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


def load_tau_retail(
    data_dir: str | Path,
    *,
    tasks_file: str = "retail_tasks_dev.json",
    validate: bool = True,
) -> tuple[EnvFactory, list[EnvTask]]:
    """Load the retail environment and its tasks from a directory of the data files.

    Reads ``retail_db_users.json``, ``retail_db_orders.json``, ``retail_db_products.json``,
    ``retail_wiki.md`` (the agent's policy, used as its instructions) and ``tasks_file``.
    Each task's ``instruction`` becomes the simulated user's hidden goal; its ground-truth
    ``actions`` are replayed once here (unless ``validate=False``) so a task whose expected
    state cannot be reached fails at load time with a ConfigError.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise ConfigError("data directory not found", source=str(root))
    state: dict[str, dict[str, Any]] = {}
    for table, filename in _DB_FILES.items():
        data = _read_json(root / filename)
        if not isinstance(data, dict):
            raise ConfigError("expected an object keyed by id", source=str(root / filename))
        state[table] = data
    wiki = root / "retail_wiki.md"
    try:
        instructions = wiki.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the policy ({exc})", source=str(wiki)) from exc
    factory = EnvFactory.from_state(RetailEnv, state, instructions=instructions)

    tasks_path = root / tasks_file
    raw = _read_json(tasks_path)
    if not isinstance(raw, list):
        raise ConfigError("expected a list of tasks", source=str(tasks_path))
    split = Path(tasks_file).stem.removeprefix("retail_tasks_").removeprefix("retail_") or "all"
    tasks: list[EnvTask] = []
    for i, item in enumerate(raw):
        field = f"[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("instruction"), str):
            raise ConfigError(
                "a task needs an 'instruction' string", source=str(tasks_path), field=field
            )
        try:
            actions = tuple(
                Action(name=a["name"], arguments=dict(a.get("kwargs") or a.get("arguments") or {}))
                for a in item.get("actions") or []
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"bad action ({exc})", source=str(tasks_path), field=f"{field}.actions"
            ) from exc
        metadata: dict[str, Any] = {"index": i}
        for key in ("user_id", "annotator"):
            if item.get(key):
                metadata[key] = item[key]
        tasks.append(
            EnvTask(
                id=f"tau-retail-{split}-{i:03d}",
                suite=f"tau-retail-{split}",
                env=RetailEnv.name,
                instruction=item["instruction"],
                private_details=_private_details(item["instruction"]),
                actions=actions,
                outputs=tuple(str(o) for o in item.get("outputs") or []),
                metadata=metadata,
            )
        )
    if validate:
        validate_tasks(factory, tasks, source=str(tasks_path))
    return factory, tasks
