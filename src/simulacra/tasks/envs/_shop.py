"""A small built-in shop: customers, products, orders and refunds, with its own tasks.

It needs no external data, so it is the environment to try things with and the one the
tests play. Orders move ``processing`` → ``shipped`` → ``delivered``; a processing order
can be cancelled or changed, a delivered one can have products returned for a refund.
Orders paid with store credit are refunded (or charged for a change) in store credit at
once; card payments are settled outside the shop, so only the refund record changes.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, Literal

from simulacra.errors import ToolError
from simulacra.tasks.envs._base import EnvFactory, Environment, ToolCallRecord, tool
from simulacra.tasks.envs._policy import OneSubjectOnly, OwnRecordsOnly, RequirePriorCall
from simulacra.tasks.envs._task import EnvTask, load_env_tasks, validate_tasks

__all__ = ["SHOP_POLICY", "ShopEnv", "load_shop", "shop_state"]

SHOP_POLICY = """\
# Customer support policy

You are the support agent of a small online shop. You can look up customers, orders and
products; cancel or change orders that are still processing; change a processing order's
shipping address; accept returns of delivered orders; and update a customer's email.

- Identify the customer first, by their email or their phone number, even if they give
  their customer id. Help only that customer, with their own orders.
- Before any change (cancel, quantity change, address change, return, email change), tell
  the customer exactly what you will do and wait for a clear yes.
- Only processing orders can be cancelled or changed. A shipped order cannot be changed;
  a delivered order can only be returned.
- A cancelled order is refunded in full; a return refunds the returned products in full.
  Orders paid with store credit go back to store credit; otherwise the customer chooses
  the original payment or store credit for a return.
- Cancellation reasons: 'changed my mind', 'ordered by mistake', 'found a better price',
  'delivery too slow'. Return reasons: 'damaged', 'wrong item', 'not as described',
  'no longer needed'.
- Do not invent information. Transfer to a human only when the request is outside what
  your tools can do.
"""

CancelReason = Literal[
    "changed my mind", "ordered by mistake", "found a better price", "delivery too slow"
]
ReturnReason = Literal["damaged", "wrong item", "not as described", "no longer needed"]
RefundMethod = Literal["original_payment", "store_credit"]

_AUTH_TOOLS = frozenset({"find_customer_by_email", "find_customer_by_phone"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _money(value: float) -> float:
    return round(value + 0.0, 2)


def _shop_subject(call: ToolCallRecord, env: Environment) -> str | None:
    if not isinstance(call.arguments, dict):
        return None
    if "customer_id" in call.arguments:
        return str(call.arguments["customer_id"]).strip().upper()
    order = env.state["orders"].get(call.arguments.get("order_id", ""))
    return order.get("customer_id") if isinstance(order, dict) else None


class ShopEnv(Environment):
    """The built-in shop environment (customers, products, orders, refunds)."""

    name = "shop"
    tables = ("customers", "products", "orders", "refunds")
    stop_tools = frozenset({"transfer_to_human"})
    policy_rules = (
        RequirePriorCall(
            id="authenticate-before-write",
            description="Every change requires that the customer was identified first.",
            prerequisites=_AUTH_TOOLS,
        ),
        OwnRecordsOnly(
            id="own-records-only",
            description="Lookups and changes concern only the identified customer.",
            auth_tools=_AUTH_TOOLS,
            subject_of=_shop_subject,
        ),
        OneSubjectOnly(
            id="one-customer-per-conversation",
            description="Only one customer is helped per conversation.",
            auth_tools=_AUTH_TOOLS,
        ),
    )

    # -- helpers ---------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        return self.row("orders", order_id.strip().upper(), what="order")

    def _customer_of(self, order: dict[str, Any]) -> dict[str, Any]:
        return self.row("customers", order["customer_id"], what="customer")

    @staticmethod
    def _require(order: dict[str, Any], status: str, action: str) -> None:
        if order["status"] != status:
            raise ToolError(
                f"{action} is only possible for {status} orders; order {order['order_id']} "
                f"is {order['status']}"
            )

    def _add_refund(
        self,
        order: dict[str, Any],
        *,
        kind: str,
        items: list[dict[str, Any]],
        amount: float,
        method: str,
        reason: str,
    ) -> dict[str, Any]:
        number = 1 + sum(
            1 for r in self.state["refunds"].values() if r["order_id"] == order["order_id"]
        )
        refund_id = f"RF-{order['order_id']}-{number}"
        refund = {
            "refund_id": refund_id,
            "order_id": order["order_id"],
            "kind": kind,
            "items": items,
            "amount": _money(amount),
            "method": method,
            "reason": reason,
        }
        self.state["refunds"][refund_id] = refund
        if method == "store_credit":
            customer = self._customer_of(order)
            customer["store_credit"] = _money(customer["store_credit"] + amount)
        return refund

    # -- lookups ---------------------------------------------------------------------

    @tool
    def find_customer_by_email(self, email: str) -> str:
        """Find a customer's id from their email address.

        Args:
            email: The customer's email address.
        """
        wanted = email.strip().lower()
        for customer in self.state["customers"].values():
            if customer["email"].lower() == wanted:
                return str(customer["customer_id"])
        raise ToolError("no customer with that email")

    @tool
    def find_customer_by_phone(self, phone: str) -> str:
        """Find a customer's id from their phone number.

        Args:
            phone: The customer's phone number, such as '555-0100'.
        """
        digits = re.sub(r"\D", "", phone)
        for customer in self.state["customers"].values():
            if digits and re.sub(r"\D", "", customer["phone"]) == digits:
                return str(customer["customer_id"])
        raise ToolError("no customer with that phone number")

    @tool
    def get_customer(self, customer_id: str) -> dict[str, Any]:
        """Get a customer's profile: name, contact details, address, store credit, orders.

        Args:
            customer_id: The customer id, such as 'C001'.
        """
        return self.row("customers", customer_id.strip().upper(), what="customer")

    @tool
    def get_order(self, order_id: str) -> dict[str, Any]:
        """Get an order: status, items with quantities and prices, total, payment, address.

        Args:
            order_id: The order id, such as 'O1001'.
        """
        return self._order(order_id)

    @tool
    def search_products(self, query: str) -> list[dict[str, Any]]:
        """Search products by name or category; an empty query lists every product.

        Args:
            query: Words to look for, such as 'mug' or 'electronics'.
        """
        words = query.lower().split()
        found = []
        for product in self.state["products"].values():
            text = f"{product['name']} {product['category']}".lower()
            if all(word in text for word in words):
                found.append(
                    {
                        "product_id": product["product_id"],
                        "name": product["name"],
                        "price": product["price"],
                        "in_stock": product["stock"] > 0,
                    }
                )
        return found

    # -- changes ---------------------------------------------------------------------

    @tool(writes=True)
    def cancel_order(self, order_id: str, reason: CancelReason) -> dict[str, Any]:
        """Cancel a processing order; it is refunded in full and its items restocked.

        Args:
            order_id: The order id, such as 'O1001'.
            reason: Why the customer cancels.
        """
        order = self._order(order_id)
        self._require(order, "processing", "Cancelling")
        for item in order["items"]:
            product = self.state["products"].get(item["product_id"])
            if isinstance(product, dict):
                product["stock"] += item["quantity"]
        method = "store_credit" if order["payment"] == "store_credit" else "original_payment"
        self._add_refund(
            order,
            kind="cancellation",
            items=[
                {"product_id": i["product_id"], "quantity": i["quantity"]} for i in order["items"]
            ],
            amount=order["total"],
            method=method,
            reason=reason,
        )
        order["status"] = "cancelled"
        return order

    @tool(writes=True)
    def update_item_quantity(self, order_id: str, product_id: str, quantity: int) -> dict[str, Any]:
        """Change how many units of a product a processing order contains (0 removes it).

        The order total is recomputed at the price paid; for orders paid with store
        credit the difference is charged to or refunded in store credit at once.

        Args:
            order_id: The order id, such as 'O1001'.
            product_id: The product id of an item in the order, such as 'P100'.
            quantity: The new number of units, 0 or more.
        """
        order = self._order(order_id)
        self._require(order, "processing", "Changing an order")
        if quantity < 0:
            raise ToolError("quantity cannot be negative")
        line = next((i for i in order["items"] if i["product_id"] == product_id), None)
        if line is None:
            raise ToolError(f"product {product_id!r} is not in order {order['order_id']}")
        delta = quantity - line["quantity"]
        if delta == 0:
            raise ToolError(f"the order already has {quantity} of {line['name']}")
        if quantity == 0 and len(order["items"]) == 1:
            raise ToolError("that would leave the order empty; cancel the order instead")
        product = self.row("products", product_id, what="product")
        if delta > product["stock"]:
            raise ToolError(f"only {product['stock']} more of {product['name']} in stock")
        cost = _money(delta * line["unit_price"])
        customer = self._customer_of(order)
        if order["payment"] == "store_credit":
            if cost > customer["store_credit"]:
                raise ToolError("not enough store credit to pay for the extra units")
            customer["store_credit"] = _money(customer["store_credit"] - cost)
        product["stock"] -= delta
        if quantity == 0:
            order["items"].remove(line)
        else:
            line["quantity"] = quantity
        order["total"] = _money(sum(i["quantity"] * i["unit_price"] for i in order["items"]))
        return order

    @tool(writes=True)
    def update_shipping_address(
        self, order_id: str, street: str, city: str, state: str, zip: str
    ) -> dict[str, Any]:
        """Change where a processing order will be shipped.

        Args:
            order_id: The order id, such as 'O1001'.
            street: Street and number (and apartment, if any), such as '1 Main Street, Apt 2'.
            city: The city.
            state: The two-letter state code, such as 'IL'.
            zip: The five-digit zip code.
        """
        order = self._order(order_id)
        self._require(order, "processing", "Changing the address")
        if not re.fullmatch(r"\d{5}", zip.strip()):
            raise ToolError("the zip code must have five digits")
        order["shipping_address"] = {
            "street": street.strip(),
            "city": city.strip(),
            "state": state.strip().upper(),
            "zip": zip.strip(),
        }
        return order

    @tool(writes=True)
    def request_refund(
        self,
        order_id: str,
        product_ids: list[str],
        reason: ReturnReason,
        method: RefundMethod,
    ) -> dict[str, Any]:
        """Accept the return of products of a delivered order and refund them in full.

        Every unit of each listed product is returned. Store credit is added at once.

        Args:
            order_id: The order id, such as 'O1002'.
            product_ids: The products to return, such as ['P102'].
            reason: Why the customer returns them.
            method: Where the refund goes: 'original_payment' or 'store_credit'. Orders
                paid with store credit are always refunded in store credit.
        """
        order = self._order(order_id)
        self._require(order, "delivered", "A return")
        if not product_ids:
            raise ToolError("list at least one product to return")
        if len(set(product_ids)) != len(product_ids):
            raise ToolError("each product may be listed only once")
        if order["payment"] == "store_credit" and method != "store_credit":
            raise ToolError("this order was paid with store credit; it is refunded in store credit")
        lines = []
        for product_id in product_ids:
            line = next((i for i in order["items"] if i["product_id"] == product_id), None)
            if line is None:
                raise ToolError(f"product {product_id!r} is not in order {order['order_id']}")
            if product_id in order["returned_products"]:
                raise ToolError(f"{line['name']} was already returned")
            lines.append(line)
        amount = sum(line["quantity"] * line["unit_price"] for line in lines)
        refund = self._add_refund(
            order,
            kind="return",
            items=[{"product_id": i["product_id"], "quantity": i["quantity"]} for i in lines],
            amount=amount,
            method=method,
            reason=reason,
        )
        order["returned_products"] = sorted({*order["returned_products"], *product_ids})
        if len(order["returned_products"]) == len(order["items"]):
            order["status"] = "returned"
        return refund

    @tool(writes=True)
    def update_email(self, customer_id: str, email: str) -> dict[str, Any]:
        """Change a customer's email address.

        Args:
            customer_id: The customer id, such as 'C001'.
            email: The new email address.
        """
        customer = self.row("customers", customer_id.strip().upper(), what="customer")
        new = email.strip().lower()
        if not _EMAIL.match(new):
            raise ToolError(f"{email!r} is not an email address")
        if any(c["email"] == new and c is not customer for c in self.state["customers"].values()):
            raise ToolError("another customer already uses that email")
        customer["email"] = new
        return customer

    @tool
    def transfer_to_human(self, summary: str) -> str:
        """Hand the conversation to a human colleague; this ends the conversation.

        Args:
            summary: A short summary of the customer's request.
        """
        return "Transferred to a human agent."


def shop_state() -> dict[str, dict[str, Any]]:
    """The built-in shop's initial data (a fresh copy)."""
    text = resources.files("simulacra.tasks.envs").joinpath("data/shop_db.json").read_text("utf-8")
    state: dict[str, dict[str, Any]] = json.loads(text)
    return state


def load_shop(*, validate: bool = True) -> tuple[EnvFactory, list[EnvTask]]:
    """The built-in shop environment and its tasks (validated by replay unless told not)."""
    factory = EnvFactory.from_state(ShopEnv, shop_state(), instructions=SHOP_POLICY)
    source = resources.files("simulacra.tasks.envs").joinpath("data/shop_tasks.json")
    raw = json.loads(source.read_text("utf-8"))
    tasks = load_env_tasks(raw, suite="shop", env=ShopEnv.name)
    if validate:
        validate_tasks(
            factory, tasks, source="simulacra.tasks.envs:data/shop_tasks.json", strict=True
        )
    return factory, tasks
