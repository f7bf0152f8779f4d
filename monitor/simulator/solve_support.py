"""Write a customer-support reply that follows the policy stated in the system prompt."""

from __future__ import annotations

import re

from monitor.simulator.prompt import Prompt

ORDER_ID = re.compile(r"\b[A-Z]{2,4}-\d{4,6}\b")
SIGN_OFF = re.compile(
    r"(?:end|sign off|close|finish)[^\"\n]*?(?:with|line)[^\"\n]*?[\"“]([^\"”\n]+)[\"”]", re.I
)
URL = re.compile(r"https?://[^\s\"'<>)]+[^\s\"'<>).,;]")
CUSTOMER = re.compile(r"^\s*Customer(?: name)?:\s*(.+?)\s*$", re.M | re.I)
INTENTS = (
    ("password_reset", re.compile(r"\b(password|log ?in|locked|sign in)\b", re.I)),
    ("cancellation", re.compile(r"\bcancel", re.I)),
    ("refund", re.compile(r"\b(refund|money back|reimburse)", re.I)),
    ("damaged_item", re.compile(r"\b(broken|damaged|crushed|defective|cracked)\b", re.I)),
    ("address_change", re.compile(r"\b(address|moved|street)\b", re.I)),
    (
        "shipping_delay",
        re.compile(r"\b(late|where is|still isn't|hasn't arrived|tracking|delayed|arrive)", re.I),
    ),
)


def solve(prompt: Prompt, right: bool, variant: float) -> str | None:
    system = prompt.system
    if not re.search(r"\bsupport\b", system, re.I) or not re.search(r"\b(policy|customer)\b", system, re.I):
        return None
    message = prompt.user
    intent = classify(message)
    order = ORDER_ID.search(message)
    order_ref = f"order {order.group(0)}" if order else "your order"
    customer = CUSTOMER.search(message)
    first = customer.group(1).split()[0] if customer else "there"
    sign_off = SIGN_OFF.search(system)
    link = next((u for u in URL.findall(system) if "reset" in u or "password" in u), None)
    days = re.search(r"refund[^.]*?(\d+)\s*days|(\d+)[- ]day refund", system, re.I)
    window = (days.group(1) or days.group(2)) if days else "30"
    refund_policy = f"Refunds are accepted within {window} days of delivery."
    flaws = ["no_order", "promise", "no_sign_off"]
    if intent == "refund":
        flaws.append("no_window")
    if intent == "password_reset":
        flaws.append("asks_password")
    flaw = None if right else flaws[int(variant * 7919) % len(flaws)]
    if flaw == "no_order":
        order_ref = "your order"
    body = _body(intent, order_ref, link, refund_policy if flaw != "no_window" else "")
    if flaw == "promise":
        body += " I guarantee it will be sorted out by Friday."
    if flaw == "asks_password":
        body += " To speed things up, please send us your current password."
    reply = f"Hi {first},\n\n{body}"
    if sign_off and flaw != "no_sign_off":
        reply += f"\n\n{sign_off.group(1)}"
    return reply


def classify(message: str) -> str:
    for intent, pattern in INTENTS:
        if pattern.search(message):
            return intent
    return "other"


def _body(intent: str, order: str, link: str | None, refund_policy: str) -> str:
    bare_order = order.replace("your ", "")
    where = f"at {link}" if link else "with the 'Forgot password' link on the sign-in page"
    sentences = {
        "refund": [
            f"Thanks for reaching out about a refund for {order}, and I'm sorry it didn't work out.",
            refund_policy,
            "Once the return reaches our warehouse, the money goes back to your original payment method.",
        ],
        "shipping_delay": [
            f"Thanks for your patience with {order}.",
            "I've checked the tracking: the parcel is with the carrier, and deliveries are taking a few",
            "extra business days at the moment.",
            "I'll keep watching it and update you as soon as the status changes.",
        ],
        "password_reset": [
            "Sorry you're locked out.",
            f"You can choose a new password {where}; the link is valid for one hour.",
            "For your security we will never ask for your password.",
            f"Your {bare_order} is safe and unaffected.",
        ],
        "cancellation": [
            f"I've received your request to cancel {order}.",
            "If it hasn't shipped yet, it will be cancelled and the charge reversed",
            "within a few business days.",
            "If it has already left our warehouse, you can return it once it arrives.",
        ],
        "damaged_item": [
            f"I'm sorry that {order} arrived damaged.",
            "Please reply with a photo of the item and the packaging, and I'll arrange a free replacement.",
            f"If you'd rather have your money back: {refund_policy}" if refund_policy else "",
        ],
        "address_change": [
            f"I can help update the delivery address for {order}.",
            "Please reply with the full new address; if the parcel hasn't left our warehouse yet,",
            "we'll change it before dispatch.",
        ],
    }.get(
        intent, [f"Thanks for getting in touch about {order}.", "I've passed your message to the right team."]
    )
    return " ".join(part for part in sentences if part)
