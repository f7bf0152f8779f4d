"""Generate the example suites' sample files in evals/ (deterministic: rerunning rewrites the same lines)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

EVALS = Path(__file__).resolve().parent.parent / "evals"

NAMES = [
    ("Maria", "she"),
    ("Tom", "he"),
    ("Aisha", "she"),
    ("Leo", "he"),
    ("Priya", "she"),
    ("Sam", "he"),
    ("Elena", "she"),
    ("Kenji", "he"),
    ("Fatima", "she"),
    ("Noah", "he"),
    ("Grace", "she"),
    ("Omar", "he"),
]
ITEMS = ["apples", "stickers", "marbles", "pencils", "stamps", "cards", "shells", "books"]


def _arithmetic(rng: random.Random) -> list[dict[str, Any]]:
    def person() -> tuple[str, str, str, str]:
        name, pronoun = rng.choice(NAMES)
        possessive = "her" if pronoun == "she" else "his"
        return name, pronoun, pronoun.capitalize(), possessive

    def t_add() -> tuple[str, float]:
        name, p, cp, _ = person()
        a, b, item = rng.randint(5, 60), rng.randint(2, 40), rng.choice(ITEMS)
        return f"{name} has {a} {item}. {cp} buys {b} more. How many {item} does {p} have now?", a + b

    def t_sub() -> tuple[str, float]:
        name, p, _, _ = person()
        a = rng.randint(20, 90)
        b, item = rng.randint(3, a - 5), rng.choice(ITEMS)
        return (
            f"{name} had {a} {item} and gave {b} of them to a friend. How many {item} does {p} have left?",
            a - b,
        )

    def t_bus() -> tuple[str, float]:
        a = rng.randint(20, 50)
        b, c = rng.randint(3, 15), rng.randint(2, 20)
        return (
            f"A bus has {a} passengers. At the first stop, {b} people get off and {c} people get on. "
            "How many passengers are on the bus now?",
            a - b + c,
        )

    def t_boxes() -> tuple[str, float]:
        a, b = rng.randint(3, 12), rng.randint(6, 24)
        thing = rng.choice(["crayons", "eggs", "muffins", "bottles"])
        return (
            f"There are {a} boxes with {b} {thing} in each box. How many {thing} are there in total?",
            a * b,
        )

    def t_share() -> tuple[str, float]:
        name, _, _, _ = person()
        b = rng.randint(2, 8)
        a = b * rng.randint(3, 12)
        return (
            f"{name} has {a} stickers and shares them equally among {b} friends. "
            "How many stickers does each friend get?",
            a // b,
        )

    def t_speed() -> tuple[str, float]:
        a, b = rng.choice([40, 45, 50, 60, 65, 70, 80, 90]), rng.randint(2, 6)
        return f"A car travels {a} kilometres per hour. How far does it travel in {b} hours?", a * b

    def t_change() -> tuple[str, float]:
        name, p, _, _ = person()
        price, count = rng.choice([1.5, 2, 2.25, 3, 3.5, 4]), rng.randint(2, 5)
        paid = 20 if price * count < 20 else 50
        return (
            f"Notebooks cost ${price:g} each. {name} buys {count} notebooks and pays with a ${paid} bill. "
            f"How much change does {p} get?",
            paid - price * count,
        )

    def t_sale() -> tuple[str, float]:
        a, pct = rng.choice([40, 60, 80, 120, 150, 200]), rng.choice([10, 20, 25, 50])
        return f"A jacket costs ${a}. It is on sale for {pct}% off. What is the sale price in dollars?", a * (
            1 - pct / 100
        )

    def t_age() -> tuple[str, float]:
        name, _, _, poss = person()
        a = rng.randint(4, 15)
        word, factor = rng.choice([("twice", 2), ("3 times", 3)])
        return (
            f"{name} is {a} years old. {poss.capitalize()} aunt is {word} as old. How old is {poss} aunt?",
            a * factor,
        )

    def t_bags() -> tuple[str, float]:
        b = rng.choice([4, 6, 8, 10, 12])
        a = b * rng.randint(3, 15)
        return (
            f"A baker made {a} cookies and packs them in bags of {b}. How many bags does the baker fill?",
            a // b,
        )

    def t_win_lose() -> tuple[str, float]:
        name, p, cp, _ = person()
        a, b = rng.randint(10, 40), rng.randint(3, 20)
        c = rng.randint(1, a + b - 1)
        return (
            f"{name} has {a} marbles. {cp} wins {b} more, then loses {c}. "
            f"How many marbles does {p} have now?",
            a + b - c,
        )

    def t_orchard() -> tuple[str, float]:
        a, b, c = rng.randint(3, 9), rng.randint(5, 12), rng.randint(2, 15)
        return (
            f"A farmer has {a} rows of apple trees with {b} trees in each row. "
            f"The farmer plants {c} more trees. "
            "How many trees are there now?",
            a * b + c,
        )

    def t_library() -> tuple[str, float]:
        a, b, c = rng.randint(200, 900), rng.randint(20, 80), rng.randint(5, 60)
        return (
            f"A library had {a} books. It bought {b} new books and then donated {c} old ones. "
            "How many books does the library have now?",
            a + b - c,
        )

    def t_savings() -> tuple[str, float]:
        name, p, _, _ = person()
        a, b = rng.choice([5, 8, 10, 12, 15, 20, 25]), rng.randint(3, 12)
        return f"{name} saves ${a} every week. How much money will {p} have saved after {b} weeks?", a * b

    def t_rope() -> tuple[str, float]:
        name, _, _, _ = person()
        b = rng.randint(2, 8)
        a = b * rng.randint(2, 9)
        return (
            f"A rope is {a} metres long. {name} cuts it into {b} equal pieces. "
            "How long is each piece in metres?",
            a / b,
        )

    def t_percent_of() -> tuple[str, float]:
        a = rng.choice([200, 240, 300, 400, 480, 500, 600])
        pct = rng.choice([10, 25, 50, 75])
        return (
            f"A school has {a} students. {pct}% of them walk to school. How many students walk to school?",
            a * pct / 100,
        )

    def t_pages() -> tuple[str, float]:
        name, p, _, _ = person()
        a, b = rng.randint(10, 60), rng.randint(10, 60)
        return (
            f"{name} read {a} pages on Monday and {b} pages on Tuesday. "
            f"How many pages did {p} read in total?",
            a + b,
        )

    templates = [
        t_add,
        t_sub,
        t_bus,
        t_boxes,
        t_share,
        t_speed,
        t_change,
        t_sale,
        t_age,
        t_bags,
        t_win_lose,
        t_orchard,
        t_library,
        t_savings,
        t_rope,
        t_percent_of,
        t_pages,
    ]
    samples = []
    for i in range(68):
        question, answer = templates[i % len(templates)]()
        target: float | int = int(answer) if float(answer).is_integer() else round(answer, 2)
        samples.append({"id": f"arith-{i + 1:03d}", "vars": {"question": question}, "target": target})
    return samples


KNOWLEDGE = [
    ("What is the capital of Australia?", "Canberra", ["Sydney", "Melbourne", "Perth"]),
    ("What is the capital of Canada?", "Ottawa", ["Toronto", "Vancouver", "Montreal"]),
    ("What is the capital of Japan?", "Tokyo", ["Kyoto", "Osaka", "Hiroshima"]),
    ("What is the capital of Brazil?", "Brasilia", ["Rio de Janeiro", "Sao Paulo", "Salvador"]),
    ("What is the capital of Kenya?", "Nairobi", ["Mombasa", "Kisumu", "Nakuru"]),
    ("What is the capital of Egypt?", "Cairo", ["Alexandria", "Giza", "Luxor"]),
    ("What is the capital of Spain?", "Madrid", ["Barcelona", "Seville", "Valencia"]),
    ("What is the capital of Turkey?", "Ankara", ["Istanbul", "Izmir", "Antalya"]),
    ("What is the capital of New Zealand?", "Wellington", ["Auckland", "Christchurch", "Queenstown"]),
    ("What is the capital of Switzerland?", "Bern", ["Zurich", "Geneva", "Basel"]),
    ("What is the capital of Morocco?", "Rabat", ["Casablanca", "Marrakesh", "Fez"]),
    ("What is the capital of Vietnam?", "Hanoi", ["Ho Chi Minh City", "Da Nang", "Hue"]),
    ("What is the chemical symbol for gold?", "Au", ["Ag", "Gd", "Go"]),
    ("What is the chemical symbol for sodium?", "Na", ["So", "Sd", "N"]),
    ("What is the chemical symbol for iron?", "Fe", ["Ir", "In", "Fr"]),
    ("What is the chemical symbol for potassium?", "K", ["P", "Po", "Pt"]),
    ("What is the chemical symbol for silver?", "Ag", ["Si", "Sv", "Au"]),
    ("What is the chemical symbol for lead?", "Pb", ["Ld", "Le", "Pd"]),
    ("Which element has the chemical symbol O?", "Oxygen", ["Osmium", "Gold", "Oganesson"]),
    ("What is the largest planet in our solar system?", "Jupiter", ["Saturn", "Neptune", "Earth"]),
    ("Which planet is known as the Red Planet?", "Mars", ["Venus", "Mercury", "Jupiter"]),
    ("Which planet is closest to the Sun?", "Mercury", ["Venus", "Mars", "Earth"]),
    ("Which planet is famous for its prominent ring system?", "Saturn", ["Mars", "Mercury", "Venus"]),
    ("Which planet has the hottest average surface temperature?", "Venus", ["Mercury", "Mars", "Jupiter"]),
    (
        "Who wrote 'Pride and Prejudice'?",
        "Jane Austen",
        ["Charlotte Bronte", "Emily Dickinson", "Mary Shelley"],
    ),
    ("Who wrote the novel '1984'?", "George Orwell", ["Aldous Huxley", "Ray Bradbury", "H. G. Wells"]),
    (
        "Who wrote 'Romeo and Juliet'?",
        "William Shakespeare",
        ["Christopher Marlowe", "Ben Jonson", "John Milton"],
    ),
    (
        "Who wrote 'One Hundred Years of Solitude'?",
        "Gabriel Garcia Marquez",
        ["Jorge Luis Borges", "Pablo Neruda", "Isabel Allende"],
    ),
    (
        "Who wrote 'On the Origin of Species'?",
        "Charles Darwin",
        ["Gregor Mendel", "Alfred Wegener", "Isaac Newton"],
    ),
    ("Who wrote 'Frankenstein'?", "Mary Shelley", ["Bram Stoker", "Jane Austen", "Emily Bronte"]),
    ("Who wrote 'War and Peace'?", "Leo Tolstoy", ["Fyodor Dostoevsky", "Anton Chekhov", "Ivan Turgenev"]),
    ("What is the SI unit of force?", "Newton", ["Joule", "Watt", "Pascal"]),
    ("What is the SI unit of energy?", "Joule", ["Newton", "Watt", "Volt"]),
    ("What is the SI unit of electric current?", "Ampere", ["Volt", "Ohm", "Coulomb"]),
    ("What is the SI unit of power?", "Watt", ["Joule", "Newton", "Ampere"]),
    ("What is the SI unit of pressure?", "Pascal", ["Bar", "Newton", "Atmosphere"]),
    ("What is the SI unit of electrical resistance?", "Ohm", ["Volt", "Ampere", "Farad"]),
    ("What is the SI unit of frequency?", "Hertz", ["Decibel", "Watt", "Tesla"]),
    (
        "Which gas do plants absorb from the air for photosynthesis?",
        "Carbon dioxide",
        ["Oxygen", "Nitrogen", "Hydrogen"],
    ),
    ("What is the hardest natural substance?", "Diamond", ["Quartz", "Granite", "Iron"]),
    (
        "At sea level, what is the boiling point of water in degrees Celsius?",
        "100",
        ["90", "212", "120"],
    ),
    (
        "Which part of the cell is known as its powerhouse?",
        "Mitochondria",
        ["Nucleus", "Ribosome", "Chloroplast"],
    ),
    ("What is the chemical formula for water?", "H2O", ["CO2", "H2O2", "HO"]),
    ("How many bones are in the adult human body?", "206", ["186", "212", "300"]),
    ("What is the largest organ of the human body?", "Skin", ["Liver", "Brain", "Heart"]),
    (
        "What is the largest ocean on Earth?",
        "Pacific Ocean",
        ["Atlantic Ocean", "Indian Ocean", "Arctic Ocean"],
    ),
    ("What is the longest river in South America?", "Amazon", ["Parana", "Orinoco", "Magdalena"]),
    ("How many continents are there on Earth?", "7", ["5", "6", "8"]),
    ("What is the tallest mountain above sea level?", "Mount Everest", ["K2", "Kangchenjunga", "Mont Blanc"]),
    ("What is the largest hot desert in the world?", "Sahara", ["Gobi", "Kalahari", "Atacama"]),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci", ["Michelangelo", "Raphael", "Rembrandt"]),
    (
        "Who painted 'The Starry Night'?",
        "Vincent van Gogh",
        ["Claude Monet", "Pablo Picasso", "Paul Cezanne"],
    ),
    (
        "Who developed the theory of relativity?",
        "Albert Einstein",
        ["Isaac Newton", "Niels Bohr", "Max Planck"],
    ),
    (
        "Who was the first person to walk on the Moon?",
        "Neil Armstrong",
        ["Buzz Aldrin", "Yuri Gagarin", "John Glenn"],
    ),
    ("How many sides does a hexagon have?", "6", ["5", "7", "8"]),
    ("What is the smallest prime number?", "2", ["1", "3", "0"]),
    ("What is the currency of Japan?", "Yen", ["Won", "Yuan", "Ringgit"]),
    ("How many minutes are there in a day?", "1440", ["1240", "1400", "2440"]),
]

TOPICS = {
    "capital": "geography",
    "symbol": "chemistry",
    "element": "chemistry",
    "planet": "astronomy",
    "wrote": "literature",
    "unit": "physics",
    "painted": "art",
}


def _knowledge(rng: random.Random) -> list[dict[str, Any]]:
    samples = []
    for i, (question, right, wrong) in enumerate(KNOWLEDGE):
        options = [right, *wrong]
        rng.shuffle(options)
        letter = "ABCD"[options.index(right)]
        group = next((topic for word, topic in TOPICS.items() if word in question.lower()), "general")
        samples.append(
            {
                "id": f"know-{i + 1:03d}",
                "vars": {"question": question},
                "choices": options,
                "target": letter,
                "group": group,
            }
        )
    return samples


PEOPLE = [
    "Dana Whitfield",
    "Rahul Mehta",
    "Sofia Rossi",
    "Jonas Berg",
    "Amara Okafor",
    "Liam O'Brien",
    "Chen Wei",
    "Isabel Duarte",
    "Marcus Lee",
    "Hannah Schmidt",
    "Yusuf Demir",
    "Chloe Martin",
    "Mateo Alvarez",
    "Nora Lindqvist",
    "Kwame Mensah",
    "Emily Carter",
    "Diego Ramos",
    "Anika Patel",
]
DOMAINS = ["example.com", "mail.example.org", "inbox.example.net"]
PRODUCTS = [
    "Trailblazer Backpack",
    "AeroPress Coffee Maker",
    "USB-C Charging Cable",
    "Nimbus 2 Running Shoes",
    "Quiet Comfort Earbuds",
    "Granite Water Bottle",
    "Summit Rain Jacket",
    "Lumen Desk Lamp",
    "Atlas Hiking Poles",
    "Orbit Wireless Mouse",
    "Cedar Cutting Board",
    "Polar Sleeping Bag",
]
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _extraction(rng: random.Random) -> list[dict[str, Any]]:
    templates = [
        "Hi, my name is {name} and I ordered {q} x {product} (order {oid}). Can you tell me when it ships? "
        "You can reach me at {email}.",
        "Hello,\n\nOrder {oid} arrived today but the {q} {product} units were damaged. Please advise.\n\n"
        "Thanks,\n{name}\n{email}",
        "This is {name} ({email}). I'd like to change the quantity on order {oid} to {q} units of {product}.",
        "Subject: Missing item\n\n{name} here. I placed order {oid} for {q} x {product}, but only part of it "
        "came. Email: {email}",
        "Hey support, I'm {name}. About order {oid}: I need {qw} units of the {product} instead of one. "
        "Reach me at {email}. Cheers!",
        "Good afternoon. Could you please check the status of order {oid}? It contains {q} x {product}. "
        "Kind regards, {name} <{email}>",
        "Hi there,\nI was charged twice for order {oid} ({q} x {product}).\nPlease refund one charge.\n"
        "{name}\n{email}",
    ]
    samples = []
    for i in range(56):
        name = PEOPLE[i % len(PEOPLE)]
        first, last = name.split(" ", 1)
        email = f"{first.lower()}.{last.lower().replace(chr(39), '')}@{rng.choice(DOMAINS)}"
        prefix = rng.choice(["ORD", "WEB", "SO"])
        oid = f"{prefix}-{rng.randint(10000, 99999)}"
        product = rng.choice(PRODUCTS)
        template = templates[i % len(templates)]
        q = rng.randint(2, 6) if "{qw}" in template else rng.randint(2, 12)
        message = template.format(
            name=name, email=email, oid=oid, q=q, qw=NUMBER_WORDS.get(q, q), product=product
        )
        target = {"name": name, "email": email, "order_id": oid, "product": product, "quantity": q}
        samples.append({"id": f"extract-{i + 1:03d}", "vars": {"message": message}, "target": target})
    return samples


SUPPORT_MESSAGES = {
    "refund": [
        "I returned the {product} from order {oid} last week. How do I get my money back?",
        "The {product} (order {oid}) doesn't fit my needs. I'd like a refund please.",
        "Can I get a refund for order {oid}? The {product} is not what I expected.",
    ],
    "shipping_delay": [
        "My order {oid} was supposed to arrive three days ago and it still isn't here. Where is it?",
        "Tracking for order {oid} hasn't updated since Monday. Is my {product} lost?",
        "I need the {product} from order {oid} by Saturday for a trip. It's late. "
        "Can you make sure it arrives?",
    ],
    "password_reset": [
        "I can't log in to check my order {oid}. I forgot my password.",
        "My account is locked after too many password attempts and I need to see order {oid}.",
    ],
    "cancellation": [
        "Please cancel order {oid}. I ordered the {product} by mistake.",
        "I want to cancel my order {oid} before it ships.",
    ],
    "damaged_item": [
        "The {product} in order {oid} arrived broken. The box was crushed.",
        "Order {oid} came with a damaged {product}. What can you do?",
    ],
    "address_change": [
        "I moved last week. Can you change the delivery address for order {oid}?",
        "I entered the wrong street number for order {oid}. Can the address still be changed?",
    ],
}
THREADS = [
    ("shipping_delay", "refund"),
    ("damaged_item", "refund"),
    ("password_reset", "cancellation"),
    ("shipping_delay", "cancellation", "refund"),
]


def _support(rng: random.Random) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []

    def add(intent: str, name: str, oid: str, group: str | None) -> None:
        template = rng.choice(SUPPORT_MESSAGES[intent])
        message = template.format(oid=oid, product=rng.choice(PRODUCTS))
        sample: dict[str, Any] = {
            "id": f"support-{len(samples) + 1:03d}",
            "vars": {"customer_name": name, "message": message},
            "target": intent,
        }
        if group:
            sample["group"] = group
        samples.append(sample)

    for thread in THREADS:
        name, oid = rng.choice(PEOPLE), f"NW-{rng.randint(10000, 99999)}"
        for intent in thread:
            add(intent, name, oid, f"thread-{oid}")
    intents = list(SUPPORT_MESSAGES)
    while len(samples) < 56:
        add(intents[len(samples) % len(intents)], rng.choice(PEOPLE), f"NW-{rng.randint(10000, 99999)}", None)
    return samples


def write(name: str, samples: list[dict[str, Any]]) -> None:
    path = EVALS / f"{name}.jsonl"
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples), encoding="utf-8")
    print(f"{path.relative_to(EVALS.parent)}: {len(samples)} samples")


def main() -> None:
    write("arithmetic", _arithmetic(random.Random(1)))
    write("knowledge", _knowledge(random.Random(2)))
    write("extraction", _extraction(random.Random(3)))
    write("support", _support(random.Random(4)))


if __name__ == "__main__":
    main()
