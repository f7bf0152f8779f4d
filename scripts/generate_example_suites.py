"""Generate the example suites' sample files in evals/ (deterministic: rerunning rewrites the same lines)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

EVALS = Path(__file__).resolve().parent.parent / "evals"
# Samples per suite. The demo's new model (skill 0.9) beats its baseline (0.72) by 18 points, the two
# disagreeing on 32% of samples; McNemar's exact test at alpha/4 (four suites, Holm) finds that with
# 99% power from 222 samples on (`python bench/suite_size.py --demo`); 240 leaves a margin.
SAMPLES = 240

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
    ("Lucia", "she"),
    ("Ravi", "he"),
    ("Mei", "she"),
    ("Jonas", "he"),
    ("Zara", "she"),
    ("Ben", "he"),
]
ITEMS = ["apples", "stickers", "marbles", "pencils", "stamps", "cards", "shells", "books"]
FRUIT = ["strawberries", "apples", "plums", "cherries", "pears"]


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

    def t_picked() -> tuple[str, float]:
        name, p, _, _ = person()
        a, b, fruit = rng.randint(8, 45), rng.randint(5, 40), rng.choice(FRUIT)
        return (
            f"{name} picked {a} {fruit} in the morning and {b} {fruit} in the afternoon. "
            f"How many {fruit} did {p} pick altogether?",
            a + b,
        )

    def t_shop_sold() -> tuple[str, float]:
        a = rng.randint(30, 120)
        b, thing = rng.randint(5, a - 5), rng.choice(["umbrellas", "scarves", "kites", "lamps", "mugs"])
        return (
            f"A shop had {a} {thing}. It sold {b} of them on Saturday. "
            f"How many {thing} does the shop have left?",
            a - b,
        )

    def t_arrive() -> tuple[str, float]:
        a, b = rng.randint(10, 40), rng.randint(3, 25)
        place = rng.choice(["playground", "library", "swimming pool", "museum"])
        return (
            f"There are {a} children in the {place}. {b} more children arrive. "
            f"How many children are in the {place} now?",
            a + b,
        )

    def t_seats() -> tuple[str, float]:
        a, b = rng.choice([40, 48, 50, 56, 60, 64, 72]), rng.randint(3, 10)
        return (
            f"A train has {a} seats in each carriage and {b} carriages. How many seats are there in total?",
            a * b,
        )

    def t_tickets() -> tuple[str, float]:
        a, b = rng.choice([6, 7, 8, 9, 11, 12, 14]), rng.randint(2, 9)
        show = rng.choice(["Cinema", "Museum", "Concert", "Zoo"])
        return f"{show} tickets cost ${a} each. How much do {b} tickets cost in dollars?", a * b

    def t_beds() -> tuple[str, float]:
        a, b = rng.randint(6, 25), rng.randint(3, 9)
        flower = rng.choice(["tulips", "roses", "daisies", "pansies"])
        return (
            f"A gardener plants {a} {flower} in each of {b} flower beds. "
            f"How many {flower} does the gardener plant?",
            a * b,
        )

    def t_run() -> tuple[str, float]:
        name, p, _, _ = person()
        a, b = rng.randint(2, 12), rng.randint(3, 14)
        verb, base = rng.choice([("runs", "run"), ("cycles", "cycle"), ("swims", "swim")])
        unit = "metres" if verb == "swims" else "kilometres"
        a = a * 100 if verb == "swims" else a
        return f"{name} {verb} {a} {unit} every day. How far does {p} {base} in {b} days?", a * b

    def t_pizza() -> tuple[str, float]:
        name, _, _, _ = person()
        a = rng.choice([8, 10, 12, 16])
        b = rng.randint(2, a - 1)
        return f"A pizza is cut into {a} slices. {name} eats {b} slices. How many slices are left?", a - b

    def t_spent() -> tuple[str, float]:
        name, p, cp, _ = person()
        a = rng.randint(20, 90)
        b, on = rng.randint(4, a - 3), rng.choice(["lunch", "a book", "a gift", "bus fares"])
        return f"{name} had ${a}. {cp} spent ${b} on {on}. How much money does {p} have left?", a - b

    def t_tank() -> tuple[str, float]:
        a = rng.choice([120, 150, 200, 250, 300, 400, 500])
        b = rng.randint(15, a - 20)
        return (
            f"A water tank holds {a} litres. {b} litres are used to water the garden. "
            "How many litres are left in the tank?",
            a - b,
        )

    def t_class() -> tuple[str, float]:
        a, b = rng.randint(8, 18), rng.randint(8, 18)
        return f"A class has {a} boys and {b} girls. How many students are in the class?", a + b

    def t_each_box() -> tuple[str, float]:
        a, b = rng.randint(6, 30), rng.randint(3, 12)
        thing = rng.choice(["chocolates", "tea bags", "candles", "screws"])
        return f"Each box holds {a} {thing}. How many {thing} are in {b} boxes?", a * b

    def t_teams() -> tuple[str, float]:
        b = rng.randint(3, 6)
        a = b * rng.randint(4, 10)
        return (
            f"There are {a} students in a gym class. The teacher splits them into teams of {b}. "
            "How many teams are there?",
            a // b,
        )

    def t_recipe() -> tuple[str, float]:
        a, b = rng.randint(2, 6), rng.randint(3, 12)
        return f"A baker needs {a} eggs per cake. How many eggs does the baker need for {b} cakes?", a * b

    def t_temperature() -> tuple[str, float]:
        a, b = rng.randint(5, 20), rng.randint(2, 12)
        return (
            f"The temperature was {a} degrees in the morning. By noon it rose by {b} degrees. "
            "How many degrees was it at noon?",
            a + b,
        )

    def t_population() -> tuple[str, float]:
        a, pct = rng.choice([1200, 2000, 2500, 3000, 4000, 5000]), rng.choice([2, 4, 5, 10])
        return (
            f"A town has {a} residents. Its population grows by {pct}% over the year. "
            "How many residents does it have at the end of the year?",
            a * (1 + pct / 100),
        )

    def t_tip() -> tuple[str, float]:
        name, _, _, _ = person()
        a, pct = rng.choice([20, 40, 60, 80, 100, 120]), rng.choice([10, 15, 20])
        return (
            f"A restaurant bill is ${a}. {name} adds a {pct}% tip. What is the total in dollars?",
            a * (1 + pct / 100),
        )

    def t_price_drop() -> tuple[str, float]:
        a, pct = rng.choice([80, 160, 200, 240, 300, 400]), rng.choice([10, 15, 25, 40])
        thing = rng.choice(["bike", "tent", "guitar", "scooter"])
        return (
            f"A {thing} costs ${a}. Its price drops by {pct}%. What is the new price in dollars?",
            a * (1 - pct / 100),
        )

    def t_discount() -> tuple[str, float]:
        a, pct = rng.choice([30, 50, 70, 90, 110]), rng.choice([10, 20, 30])
        return (
            f"A pair of shoes costs ${a}. The shop gives a {pct}% discount. "
            "What is the sale price in dollars?",
            a * (1 - pct / 100),
        )

    def t_tax() -> tuple[str, float]:
        a, pct = rng.choice([20, 40, 60, 80, 200]), rng.choice([5, 10])
        return (
            f"A lamp costs ${a} before tax. Sales tax is {pct}%. What is the final price in dollars?",
            a * (1 + pct / 100),
        )

    def t_times_as_many() -> tuple[str, float]:
        (name, _), (other, _) = rng.sample(NAMES, 2)
        a, k = rng.randint(3, 15), rng.randint(3, 6)
        return (
            f"{name} has {a} shells. {other} has {k} times as many shells as {name}. "
            f"How many shells does {other} have?",
            a * k,
        )

    def t_half() -> tuple[str, float]:
        name, p, _, poss = person()
        a = 2 * rng.randint(6, 30)
        return (
            f"{name} had {a} crayons and gave half of them to {poss} brother. "
            f"How many crayons does {p} have left?",
            a / 2,
        )

    def t_doubles() -> tuple[str, float]:
        a = rng.randint(8, 40)
        return (
            f"A sunflower was {a} centimetres tall. After a month its height doubles. "
            "How tall is the sunflower now in centimetres?",
            2 * a,
        )

    def t_lunch_change() -> tuple[str, float]:
        name, p, _, _ = person()
        a, b = rng.choice([4, 5, 6, 7.5, 8]), rng.choice([2, 2.5, 3, 4])
        return (
            f"A sandwich costs ${a:g} and a juice costs ${b:g}. {name} pays with a $20 bill. "
            f"How much change does {p} get?",
            20 - a - b,
        )

    def t_shelves_sold() -> tuple[str, float]:
        a, b = rng.randint(3, 8), rng.randint(8, 20)
        c = rng.randint(2, a * b - 2)
        return (
            f"A shop has {a} shelves with {b} jars on each shelf. It sells {c} jars. How many jars are left?",
            a * b - c,
        )

    def t_fewer() -> tuple[str, float]:
        a = rng.randint(30, 90)
        b = rng.randint(4, a - 10)
        return (
            f"Class A collected {a} cans for recycling. Class B collected {b} fewer cans. "
            "How many cans did Class B collect?",
            a - b,
        )

    def t_more_than() -> tuple[str, float]:
        a, b = rng.randint(10, 60), rng.randint(3, 30)
        return (
            f"A red box has {a} beads. A blue box has {b} more beads than the red box. "
            "How many beads are in the blue box?",
            a + b,
        )

    def t_parking() -> tuple[str, float]:
        a = rng.randint(40, 150)
        b, c = rng.randint(5, 35), rng.randint(3, 30)
        return (
            f"A parking lot has {a} cars. In the morning {b} cars leave and {c} cars arrive. "
            "How many cars are in the parking lot now?",
            a - b + c,
        )

    def t_rows() -> tuple[str, float]:
        b = rng.randint(3, 9)
        a = b * rng.randint(4, 12)
        return (
            f"There are {a} chairs in a hall. They are split into {b} equal rows. "
            "How many chairs are in each row?",
            a // b,
        )

    def t_hourly() -> tuple[str, float]:
        a, b = rng.choice([9, 10, 12, 14, 15, 18]), rng.randint(2, 8)
        job = rng.choice(["babysitter", "dog walker", "tutor", "gardener"])
        return f"A {job} charges ${a} an hour. How much does the {job} charge for {b} hours?", a * b

    def t_daily_sales() -> tuple[str, float]:
        a, b = rng.randint(20, 60), rng.randint(3, 7)
        return (
            f"A bakery sells {a} loaves of bread each day. How many loaves does it sell in {b} days?",
            a * b,
        )

    def t_packs() -> tuple[str, float]:
        name, p, _, _ = person()
        a, b = rng.randint(2, 6), rng.choice([6, 8, 10, 12, 20])
        return (
            f"{name} buys {a} packs of cards with {b} cards in each pack. How many cards does {p} buy?",
            a * b,
        )

    def t_scores() -> tuple[str, float]:
        name, p, _, _ = person()
        a = rng.randint(15, 40)
        b = rng.randint(2, a - 5)
        return (
            f"{name} scored {a} points in the first game and {b} fewer points in the second game. "
            f"How many points did {p} score in the second game?",
            a - b,
        )

    def t_weekend() -> tuple[str, float]:
        name, p, _, _ = person()
        a, b = rng.randint(10, 45), rng.randint(10, 45)
        return (
            f"{name} earned ${a} on Saturday and ${b} on Sunday. How much did {p} earn over the weekend?",
            a + b,
        )

    def t_flour() -> tuple[str, float]:
        a = rng.choice([10, 20, 25, 50])
        b = rng.randint(2, a - 1)
        return (
            f"A sack holds {a} kilograms of flour. A bakery uses {b} kilograms. "
            "How many kilograms of flour are left?",
            a - b,
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
        t_picked,
        t_shop_sold,
        t_arrive,
        t_seats,
        t_tickets,
        t_beds,
        t_run,
        t_pizza,
        t_spent,
        t_tank,
        t_class,
        t_each_box,
        t_teams,
        t_recipe,
        t_temperature,
        t_population,
        t_tip,
        t_price_drop,
        t_discount,
        t_tax,
        t_times_as_many,
        t_half,
        t_doubles,
        t_lunch_change,
        t_shelves_sold,
        t_fewer,
        t_more_than,
        t_parking,
        t_rows,
        t_hourly,
        t_daily_sales,
        t_packs,
        t_scores,
        t_weekend,
        t_flour,
    ]
    samples = []
    seen: set[str] = set()
    for i in range(SAMPLES):
        template = templates[i % len(templates)]
        question, answer = template()
        while question in seen:  # the same prompt twice is one sample counted twice
            question, answer = template()
        seen.add(question)
        target: float | int = int(answer) if float(answer).is_integer() else round(answer, 2)
        samples.append({"id": f"arith-{i + 1:03d}", "vars": {"question": question}, "target": target})
    return samples


# (topic, question, right answer, three wrong options). The simulator's fact table
# (monitor/simulator/facts.py) must know each answer; main() checks that it does.
KNOWLEDGE = [
    ("geography", "What is the capital of Australia?", "Canberra", ["Sydney", "Melbourne", "Perth"]),
    ("geography", "What is the capital of Canada?", "Ottawa", ["Toronto", "Vancouver", "Montreal"]),
    ("geography", "What is the capital of Japan?", "Tokyo", ["Kyoto", "Osaka", "Hiroshima"]),
    ("geography", "What is the capital of Brazil?", "Brasilia", ["Rio de Janeiro", "Sao Paulo", "Salvador"]),
    ("geography", "What is the capital of Kenya?", "Nairobi", ["Mombasa", "Kisumu", "Nakuru"]),
    ("geography", "What is the capital of Egypt?", "Cairo", ["Alexandria", "Giza", "Luxor"]),
    ("geography", "What is the capital of Spain?", "Madrid", ["Barcelona", "Seville", "Valencia"]),
    ("geography", "What is the capital of Turkey?", "Ankara", ["Istanbul", "Izmir", "Antalya"]),
    (
        "geography",
        "What is the capital of New Zealand?",
        "Wellington",
        ["Auckland", "Christchurch", "Queenstown"],
    ),
    ("geography", "What is the capital of Switzerland?", "Bern", ["Zurich", "Geneva", "Basel"]),
    ("geography", "What is the capital of Morocco?", "Rabat", ["Casablanca", "Marrakesh", "Fez"]),
    ("geography", "What is the capital of Vietnam?", "Hanoi", ["Ho Chi Minh City", "Da Nang", "Hue"]),
    ("chemistry", "What is the chemical symbol for gold?", "Au", ["Ag", "Gd", "Go"]),
    ("chemistry", "What is the chemical symbol for sodium?", "Na", ["So", "Sd", "N"]),
    ("chemistry", "What is the chemical symbol for iron?", "Fe", ["Ir", "In", "Fr"]),
    ("chemistry", "What is the chemical symbol for potassium?", "K", ["P", "Po", "Pt"]),
    ("chemistry", "What is the chemical symbol for silver?", "Ag", ["Si", "Sv", "Au"]),
    ("chemistry", "What is the chemical symbol for lead?", "Pb", ["Ld", "Le", "Pd"]),
    ("chemistry", "Which element has the chemical symbol O?", "Oxygen", ["Osmium", "Gold", "Oganesson"]),
    (
        "astronomy",
        "What is the largest planet in our solar system?",
        "Jupiter",
        ["Saturn", "Neptune", "Earth"],
    ),
    ("astronomy", "Which planet is known as the Red Planet?", "Mars", ["Venus", "Mercury", "Jupiter"]),
    ("astronomy", "Which planet is closest to the Sun?", "Mercury", ["Venus", "Mars", "Earth"]),
    (
        "astronomy",
        "Which planet is famous for its prominent ring system?",
        "Saturn",
        ["Mars", "Mercury", "Venus"],
    ),
    (
        "astronomy",
        "Which planet has the hottest average surface temperature?",
        "Venus",
        ["Mercury", "Mars", "Jupiter"],
    ),
    (
        "literature",
        "Who wrote 'Pride and Prejudice'?",
        "Jane Austen",
        ["Charlotte Bronte", "Emily Dickinson", "Mary Shelley"],
    ),
    (
        "literature",
        "Who wrote the novel '1984'?",
        "George Orwell",
        ["Aldous Huxley", "Ray Bradbury", "H. G. Wells"],
    ),
    (
        "literature",
        "Who wrote 'Romeo and Juliet'?",
        "William Shakespeare",
        ["Christopher Marlowe", "Ben Jonson", "John Milton"],
    ),
    (
        "literature",
        "Who wrote 'One Hundred Years of Solitude'?",
        "Gabriel Garcia Marquez",
        ["Jorge Luis Borges", "Pablo Neruda", "Isabel Allende"],
    ),
    (
        "biology",
        "Who wrote 'On the Origin of Species'?",
        "Charles Darwin",
        ["Gregor Mendel", "Alfred Wegener", "Isaac Newton"],
    ),
    (
        "literature",
        "Who wrote 'Frankenstein'?",
        "Mary Shelley",
        ["Bram Stoker", "Jane Austen", "Emily Bronte"],
    ),
    (
        "literature",
        "Who wrote 'War and Peace'?",
        "Leo Tolstoy",
        ["Fyodor Dostoevsky", "Anton Chekhov", "Ivan Turgenev"],
    ),
    ("physics", "What is the SI unit of force?", "Newton", ["Joule", "Watt", "Pascal"]),
    ("physics", "What is the SI unit of energy?", "Joule", ["Newton", "Watt", "Volt"]),
    ("physics", "What is the SI unit of electric current?", "Ampere", ["Volt", "Ohm", "Coulomb"]),
    ("physics", "What is the SI unit of power?", "Watt", ["Joule", "Newton", "Ampere"]),
    ("physics", "What is the SI unit of pressure?", "Pascal", ["Bar", "Newton", "Atmosphere"]),
    ("physics", "What is the SI unit of electrical resistance?", "Ohm", ["Volt", "Ampere", "Farad"]),
    ("physics", "What is the SI unit of frequency?", "Hertz", ["Decibel", "Watt", "Tesla"]),
    (
        "biology",
        "Which gas do plants absorb from the air for photosynthesis?",
        "Carbon dioxide",
        ["Oxygen", "Nitrogen", "Hydrogen"],
    ),
    ("chemistry", "What is the hardest natural substance?", "Diamond", ["Quartz", "Granite", "Iron"]),
    (
        "physics",
        "At sea level, what is the boiling point of water in degrees Celsius?",
        "100",
        ["90", "212", "120"],
    ),
    (
        "biology",
        "Which part of the cell is known as its powerhouse?",
        "Mitochondria",
        ["Nucleus", "Ribosome", "Chloroplast"],
    ),
    ("chemistry", "What is the chemical formula for water?", "H2O", ["CO2", "H2O2", "HO"]),
    ("biology", "How many bones are in the adult human body?", "206", ["186", "212", "300"]),
    ("biology", "What is the largest organ of the human body?", "Skin", ["Liver", "Brain", "Heart"]),
    (
        "geography",
        "What is the largest ocean on Earth?",
        "Pacific Ocean",
        ["Atlantic Ocean", "Indian Ocean", "Arctic Ocean"],
    ),
    (
        "geography",
        "What is the longest river in South America?",
        "Amazon",
        ["Parana", "Orinoco", "Magdalena"],
    ),
    ("geography", "How many continents are there on Earth?", "7", ["5", "6", "8"]),
    (
        "geography",
        "What is the tallest mountain above sea level?",
        "Mount Everest",
        ["K2", "Kangchenjunga", "Mont Blanc"],
    ),
    ("geography", "What is the largest hot desert in the world?", "Sahara", ["Gobi", "Kalahari", "Atacama"]),
    ("art", "Who painted the Mona Lisa?", "Leonardo da Vinci", ["Michelangelo", "Raphael", "Rembrandt"]),
    (
        "art",
        "Who painted 'The Starry Night'?",
        "Vincent van Gogh",
        ["Claude Monet", "Pablo Picasso", "Paul Cezanne"],
    ),
    (
        "physics",
        "Who developed the theory of relativity?",
        "Albert Einstein",
        ["Isaac Newton", "Niels Bohr", "Max Planck"],
    ),
    (
        "history",
        "Who was the first person to walk on the Moon?",
        "Neil Armstrong",
        ["Buzz Aldrin", "Yuri Gagarin", "John Glenn"],
    ),
    ("mathematics", "How many sides does a hexagon have?", "6", ["5", "7", "8"]),
    ("mathematics", "What is the smallest prime number?", "2", ["1", "3", "0"]),
    ("geography", "What is the currency of Japan?", "Yen", ["Won", "Yuan", "Ringgit"]),
    ("mathematics", "How many minutes are there in a day?", "1440", ["1240", "1400", "2440"]),
    # --- added when the suites grew to SAMPLES samples
    ("geography", "What is the capital of France?", "Paris", ["Lyon", "Marseille", "Nice"]),
    ("geography", "What is the capital of Germany?", "Berlin", ["Munich", "Hamburg", "Frankfurt"]),
    ("geography", "What is the capital of Italy?", "Rome", ["Milan", "Naples", "Florence"]),
    ("geography", "What is the capital of India?", "New Delhi", ["Mumbai", "Kolkata", "Bangalore"]),
    ("geography", "What is the capital of Nigeria?", "Abuja", ["Lagos", "Kano", "Ibadan"]),
    ("geography", "What is the capital of Argentina?", "Buenos Aires", ["Cordoba", "Rosario", "Mendoza"]),
    ("geography", "What is the capital of Portugal?", "Lisbon", ["Porto", "Coimbra", "Faro"]),
    ("geography", "What is the capital of Sweden?", "Stockholm", ["Gothenburg", "Malmo", "Uppsala"]),
    ("geography", "What is the capital of Poland?", "Warsaw", ["Krakow", "Gdansk", "Wroclaw"]),
    ("geography", "What is the capital of Austria?", "Vienna", ["Salzburg", "Graz", "Innsbruck"]),
    ("geography", "What is the capital of Greece?", "Athens", ["Thessaloniki", "Patras", "Heraklion"]),
    (
        "geography",
        "What is the capital of the Netherlands?",
        "Amsterdam",
        ["Rotterdam", "Utrecht", "Eindhoven"],
    ),
    ("geography", "What is the capital of Russia?", "Moscow", ["Saint Petersburg", "Novosibirsk", "Kazan"]),
    ("geography", "What is the capital of China?", "Beijing", ["Shanghai", "Guangzhou", "Shenzhen"]),
    ("geography", "What is the capital of South Korea?", "Seoul", ["Busan", "Incheon", "Daegu"]),
    ("geography", "What is the capital of Mexico?", "Mexico City", ["Guadalajara", "Monterrey", "Cancun"]),
    (
        "geography",
        "Which is the largest country in the world by area?",
        "Russia",
        ["Canada", "China", "United States"],
    ),
    (
        "geography",
        "What is the smallest country in the world?",
        "Vatican City",
        ["Monaco", "San Marino", "Liechtenstein"],
    ),
    ("geography", "What is the largest continent by area?", "Asia", ["Africa", "North America", "Europe"]),
    ("geography", "In which country is Mount Kilimanjaro?", "Tanzania", ["Kenya", "Uganda", "Ethiopia"]),
    ("geography", "Which river flows through Paris?", "Seine", ["Loire", "Rhone", "Thames"]),
    ("geography", "Which river flows through London?", "Thames", ["Severn", "Seine", "Trent"]),
    ("geography", "Which European country is shaped like a boot?", "Italy", ["Greece", "Spain", "Portugal"]),
    (
        "geography",
        "The Great Barrier Reef lies off the coast of which country?",
        "Australia",
        ["Indonesia", "Philippines", "New Zealand"],
    ),
    (
        "geography",
        "What is the largest island in the world?",
        "Greenland",
        ["New Guinea", "Borneo", "Madagascar"],
    ),
    (
        "geography",
        "On which continent are the Andes mountains?",
        "South America",
        ["Asia", "Africa", "Europe"],
    ),
    ("geography", "What is the official language of Brazil?", "Portuguese", ["Spanish", "French", "Italian"]),
    (
        "geography",
        "What is the largest lake in Africa?",
        "Lake Victoria",
        ["Lake Tanganyika", "Lake Malawi", "Lake Chad"],
    ),
    (
        "geography",
        "What is the highest waterfall in the world?",
        "Angel Falls",
        ["Niagara Falls", "Victoria Falls", "Iguazu Falls"],
    ),
    (
        "geography",
        "Which ocean trench is the deepest on Earth?",
        "Mariana Trench",
        ["Tonga Trench", "Java Trench", "Puerto Rico Trench"],
    ),
    (
        "geography",
        "Which desert covers much of Mongolia and northern China?",
        "Gobi",
        ["Sahara", "Kalahari", "Atacama"],
    ),
    (
        "geography",
        "Which strait separates Europe from Africa?",
        "Strait of Gibraltar",
        ["Strait of Hormuz", "Bosphorus", "Strait of Malacca"],
    ),
    ("geography", "What is the longest river in Europe?", "Volga", ["Danube", "Rhine", "Dnieper"]),
    (
        "geography",
        "What is the currency of the United Kingdom?",
        "Pound sterling",
        ["Euro", "Dollar", "Franc"],
    ),
    ("geography", "What is the currency of India?", "Rupee", ["Rupiah", "Taka", "Dinar"]),
    ("geography", "What is the currency of Switzerland?", "Swiss franc", ["Euro", "Krone", "Lira"]),
    ("geography", "What is the currency of Mexico?", "Peso", ["Real", "Dollar", "Sol"]),
    ("chemistry", "What is the chemical symbol for copper?", "Cu", ["Co", "Cp", "Cr"]),
    ("chemistry", "What is the chemical symbol for mercury?", "Hg", ["Me", "Mr", "Hy"]),
    ("chemistry", "What is the chemical symbol for zinc?", "Zn", ["Zi", "Z", "Zc"]),
    ("chemistry", "What is the chemical symbol for calcium?", "Ca", ["C", "Cl", "Cm"]),
    ("chemistry", "What is the chemical symbol for helium?", "He", ["H", "Hl", "Hm"]),
    ("chemistry", "What is the chemical symbol for chlorine?", "Cl", ["C", "Ch", "Co"]),
    ("chemistry", "What is the chemical symbol for magnesium?", "Mg", ["Mn", "Ma", "Mu"]),
    ("chemistry", "What is the chemical symbol for nitrogen?", "N", ["Ni", "Na", "Ne"]),
    ("chemistry", "Which element has the atomic number 1?", "Hydrogen", ["Helium", "Oxygen", "Carbon"]),
    ("chemistry", "Which element has the atomic number 6?", "Carbon", ["Nitrogen", "Oxygen", "Boron"]),
    (
        "chemistry",
        "What is the most abundant gas in Earth's atmosphere?",
        "Nitrogen",
        ["Oxygen", "Carbon dioxide", "Argon"],
    ),
    ("chemistry", "What is the pH of pure water at 25 degrees Celsius?", "7", ["0", "5", "14"]),
    ("chemistry", "What is the chemical formula for table salt?", "NaCl", ["KCl", "NaOH", "CaCl2"]),
    ("chemistry", "What is the chemical formula for carbon dioxide?", "CO2", ["CO", "CH4", "C2O"]),
    (
        "chemistry",
        "Which metal is liquid at room temperature?",
        "Mercury",
        ["Lead", "Tin", "Aluminium"],
    ),
    ("astronomy", "How many planets are in our solar system?", "8", ["7", "9", "10"]),
    ("astronomy", "What is the largest moon of Saturn?", "Titan", ["Europa", "Ganymede", "Callisto"]),
    ("astronomy", "Which planet is farthest from the Sun?", "Neptune", ["Uranus", "Saturn", "Jupiter"]),
    (
        "astronomy",
        "Which planet has a giant storm called the Great Red Spot?",
        "Jupiter",
        ["Mars", "Saturn", "Neptune"],
    ),
    ("astronomy", "Which planet is often called the Morning Star?", "Venus", ["Mars", "Mercury", "Jupiter"]),
    ("astronomy", "Which planet rotates on its side?", "Uranus", ["Neptune", "Saturn", "Venus"]),
    (
        "astronomy",
        "What is the name of the galaxy that contains our solar system?",
        "Milky Way",
        ["Andromeda", "Triangulum", "Whirlpool"],
    ),
    (
        "astronomy",
        "What was the first artificial satellite launched into orbit?",
        "Sputnik 1",
        ["Explorer 1", "Vostok 1", "Telstar 1"],
    ),
    (
        "astronomy",
        "Who was the first human to travel into space?",
        "Yuri Gagarin",
        ["Neil Armstrong", "Alan Shepard", "John Glenn"],
    ),
    (
        "astronomy",
        "Which dwarf planet was once counted as the ninth planet?",
        "Pluto",
        ["Ceres", "Eris", "Makemake"],
    ),
    (
        "astronomy",
        "What is the closest star to the Sun?",
        "Proxima Centauri",
        ["Sirius", "Barnard's Star", "Betelgeuse"],
    ),
    (
        "astronomy",
        "On which planet is Olympus Mons, the tallest volcano in the solar system?",
        "Mars",
        ["Venus", "Earth", "Mercury"],
    ),
    (
        "literature",
        "Who wrote 'Hamlet'?",
        "William Shakespeare",
        ["Christopher Marlowe", "Ben Jonson", "John Webster"],
    ),
    (
        "literature",
        "Who wrote 'Moby-Dick'?",
        "Herman Melville",
        ["Nathaniel Hawthorne", "Mark Twain", "Jack London"],
    ),
    ("literature", "Who wrote 'The Odyssey'?", "Homer", ["Virgil", "Sophocles", "Ovid"]),
    (
        "literature",
        "Who wrote 'Don Quixote'?",
        "Miguel de Cervantes",
        ["Lope de Vega", "Federico Garcia Lorca", "Jorge Luis Borges"],
    ),
    (
        "literature",
        "Who wrote 'The Great Gatsby'?",
        "F. Scott Fitzgerald",
        ["Ernest Hemingway", "John Steinbeck", "William Faulkner"],
    ),
    (
        "literature",
        "Who wrote 'To Kill a Mockingbird'?",
        "Harper Lee",
        ["Truman Capote", "Toni Morrison", "John Steinbeck"],
    ),
    (
        "literature",
        "Who wrote 'Crime and Punishment'?",
        "Fyodor Dostoevsky",
        ["Leo Tolstoy", "Anton Chekhov", "Nikolai Gogol"],
    ),
    (
        "literature",
        "Who wrote 'Jane Eyre'?",
        "Charlotte Bronte",
        ["Emily Bronte", "Jane Austen", "George Eliot"],
    ),
    (
        "literature",
        "Who wrote 'Wuthering Heights'?",
        "Emily Bronte",
        ["Charlotte Bronte", "Anne Bronte", "Mary Shelley"],
    ),
    (
        "literature",
        "Who wrote 'Oliver Twist'?",
        "Charles Dickens",
        ["William Thackeray", "Thomas Hardy", "Anthony Trollope"],
    ),
    (
        "literature",
        "Who wrote 'The Adventures of Tom Sawyer'?",
        "Mark Twain",
        ["Herman Melville", "Jack London", "Washington Irving"],
    ),
    (
        "literature",
        "Who wrote 'Brave New World'?",
        "Aldous Huxley",
        ["George Orwell", "Ray Bradbury", "H. G. Wells"],
    ),
    (
        "literature",
        "Who wrote 'The Hobbit'?",
        "J. R. R. Tolkien",
        ["C. S. Lewis", "Roald Dahl", "Lewis Carroll"],
    ),
    (
        "literature",
        "Who wrote 'Les Miserables'?",
        "Victor Hugo",
        ["Alexandre Dumas", "Emile Zola", "Gustave Flaubert"],
    ),
    (
        "literature",
        "Who wrote 'The Old Man and the Sea'?",
        "Ernest Hemingway",
        ["John Steinbeck", "F. Scott Fitzgerald", "Herman Melville"],
    ),
    (
        "literature",
        "Who wrote 'Dracula'?",
        "Bram Stoker",
        ["Mary Shelley", "Edgar Allan Poe", "Robert Louis Stevenson"],
    ),
    (
        "literature",
        "Who wrote 'Paradise Lost'?",
        "John Milton",
        ["John Donne", "William Blake", "Geoffrey Chaucer"],
    ),
    (
        "literature",
        "Who wrote 'Anna Karenina'?",
        "Leo Tolstoy",
        ["Fyodor Dostoevsky", "Ivan Turgenev", "Alexander Pushkin"],
    ),
    (
        "literature",
        "Who wrote 'The Catcher in the Rye'?",
        "J. D. Salinger",
        ["Jack Kerouac", "John Updike", "Kurt Vonnegut"],
    ),
    (
        "literature",
        "Who wrote 'Alice's Adventures in Wonderland'?",
        "Lewis Carroll",
        ["J. M. Barrie", "Roald Dahl", "Beatrix Potter"],
    ),
    (
        "literature",
        "Who wrote 'Treasure Island'?",
        "Robert Louis Stevenson",
        ["Daniel Defoe", "Jules Verne", "Walter Scott"],
    ),
    (
        "literature",
        "Who wrote 'The Time Machine'?",
        "H. G. Wells",
        ["Jules Verne", "Arthur Conan Doyle", "Isaac Asimov"],
    ),
    (
        "literature",
        "Who wrote 'Fahrenheit 451'?",
        "Ray Bradbury",
        ["Isaac Asimov", "Aldous Huxley", "Philip K. Dick"],
    ),
    (
        "literature",
        "Who wrote 'Macbeth'?",
        "William Shakespeare",
        ["Christopher Marlowe", "Ben Jonson", "Thomas Kyd"],
    ),
    (
        "literature",
        "Who wrote 'Robinson Crusoe'?",
        "Daniel Defoe",
        ["Jonathan Swift", "Robert Louis Stevenson", "Henry Fielding"],
    ),
    ("physics", "What is the SI unit of electric charge?", "Coulomb", ["Ampere", "Volt", "Farad"]),
    (
        "physics",
        "What is the SI unit of electric potential difference?",
        "Volt",
        ["Ohm", "Watt", "Ampere"],
    ),
    ("physics", "What is the SI unit of capacitance?", "Farad", ["Henry", "Ohm", "Coulomb"]),
    ("physics", "What is the SI unit of inductance?", "Henry", ["Tesla", "Farad", "Weber"]),
    ("physics", "What is the SI unit of magnetic flux?", "Weber", ["Tesla", "Henry", "Gauss"]),
    ("physics", "What is the SI unit of magnetic flux density?", "Tesla", ["Weber", "Gauss", "Henry"]),
    ("physics", "What is the SI base unit of temperature?", "Kelvin", ["Celsius", "Fahrenheit", "Rankine"]),
    ("physics", "What is the SI base unit of mass?", "Kilogram", ["Gram", "Pound", "Newton"]),
    ("physics", "What is the SI base unit of length?", "Metre", ["Centimetre", "Foot", "Kilometre"]),
    ("physics", "What is the SI base unit of time?", "Second", ["Minute", "Hour", "Millisecond"]),
    (
        "physics",
        "At sea level, what is the freezing point of water in degrees Celsius?",
        "0",
        ["4", "-10", "32"],
    ),
    (
        "physics",
        "Approximately how fast does light travel in a vacuum?",
        "About 300,000 km per second",
        ["About 30,000 km per second", "About 3,000 km per second", "About 300 km per second"],
    ),
    (
        "physics",
        "Who formulated the three laws of motion?",
        "Isaac Newton",
        ["Galileo Galilei", "Johannes Kepler", "Albert Einstein"],
    ),
    (
        "physics",
        "What force keeps the planets in orbit around the Sun?",
        "Gravity",
        ["Magnetism", "Friction", "Inertia"],
    ),
    (
        "biology",
        "What is the largest mammal on Earth?",
        "Blue whale",
        ["African elephant", "Sperm whale", "Giraffe"],
    ),
    ("biology", "What is the fastest land animal?", "Cheetah", ["Lion", "Pronghorn", "Greyhound"]),
    ("biology", "How many chambers does the human heart have?", "4", ["2", "3", "6"]),
    (
        "biology",
        "Which blood cells carry oxygen around the body?",
        "Red blood cells",
        ["White blood cells", "Platelets", "Plasma cells"],
    ),
    ("biology", "Which pigment makes plants green?", "Chlorophyll", ["Carotene", "Melanin", "Hemoglobin"]),
    ("biology", "What is the largest living bird?", "Ostrich", ["Emu", "Albatross", "Condor"]),
    (
        "biology",
        "Which mammal is capable of true flight?",
        "Bat",
        ["Flying squirrel", "Sugar glider", "Colugo"],
    ),
    ("biology", "What is the tallest animal in the world?", "Giraffe", ["Elephant", "Camel", "Moose"]),
    ("biology", "How many legs does a spider have?", "8", ["6", "10", "12"]),
    ("biology", "How many legs does an insect have?", "6", ["4", "8", "10"]),
    ("biology", "What is the longest bone in the human body?", "Femur", ["Tibia", "Humerus", "Fibula"]),
    ("biology", "What is the smallest bone in the human body?", "Stapes", ["Incus", "Malleus", "Hyoid"]),
    ("biology", "How many teeth does an adult human usually have?", "32", ["28", "30", "36"]),
    (
        "biology",
        "What does DNA stand for?",
        "Deoxyribonucleic acid",
        ["Ribonucleic acid", "Dinucleic acid", "Deoxyribonitric acid"],
    ),
    (
        "biology",
        "Which process do plants use to make food from sunlight?",
        "Photosynthesis",
        ["Respiration", "Transpiration", "Fermentation"],
    ),
    ("biology", "What is a baby kangaroo called?", "Joey", ["Cub", "Kit", "Calf"]),
    ("biology", "Which organ pumps blood around the body?", "Heart", ["Liver", "Lungs", "Kidneys"]),
    (
        "biology",
        "Which organs filter the blood to make urine?",
        "Kidneys",
        ["Liver", "Lungs", "Spleen"],
    ),
    ("biology", "How many hearts does an octopus have?", "3", ["1", "2", "8"]),
    (
        "biology",
        "What is the largest living reptile?",
        "Saltwater crocodile",
        ["Komodo dragon", "Green anaconda", "Leatherback turtle"],
    ),
    (
        "biology",
        "Which vitamin does the skin make when exposed to sunlight?",
        "Vitamin D",
        ["Vitamin A", "Vitamin C", "Vitamin K"],
    ),
    (
        "art",
        "Who painted 'The Last Supper'?",
        "Leonardo da Vinci",
        ["Michelangelo", "Raphael", "Titian"],
    ),
    (
        "art",
        "Who painted the ceiling of the Sistine Chapel?",
        "Michelangelo",
        ["Raphael", "Leonardo da Vinci", "Sandro Botticelli"],
    ),
    (
        "art",
        "Who painted 'The Scream'?",
        "Edvard Munch",
        ["Gustav Klimt", "Egon Schiele", "Wassily Kandinsky"],
    ),
    ("art", "Who painted 'Guernica'?", "Pablo Picasso", ["Salvador Dali", "Joan Miro", "Francisco Goya"]),
    (
        "art",
        "Who painted 'Girl with a Pearl Earring'?",
        "Johannes Vermeer",
        ["Rembrandt", "Frans Hals", "Jan van Eyck"],
    ),
    (
        "art",
        "Who painted 'The Persistence of Memory'?",
        "Salvador Dali",
        ["Rene Magritte", "Max Ernst", "Joan Miro"],
    ),
    (
        "art",
        "Who painted 'The Birth of Venus'?",
        "Sandro Botticelli",
        ["Titian", "Raphael", "Caravaggio"],
    ),
    (
        "art",
        "Who painted 'The Night Watch'?",
        "Rembrandt",
        ["Johannes Vermeer", "Peter Paul Rubens", "Frans Hals"],
    ),
    (
        "art",
        "Who sculpted 'The Thinker'?",
        "Auguste Rodin",
        ["Michelangelo", "Donatello", "Antonio Canova"],
    ),
    (
        "art",
        "Who painted 'American Gothic'?",
        "Grant Wood",
        ["Edward Hopper", "Norman Rockwell", "Andrew Wyeth"],
    ),
    (
        "art",
        "Which artist painted the 'Water Lilies' series?",
        "Claude Monet",
        ["Edgar Degas", "Pierre-Auguste Renoir", "Edouard Manet"],
    ),
    (
        "art",
        "Who painted 'The Garden of Earthly Delights'?",
        "Hieronymus Bosch",
        ["Pieter Bruegel the Elder", "Jan van Eyck", "Albrecht Durer"],
    ),
    (
        "music",
        "Who composed 'The Four Seasons'?",
        "Antonio Vivaldi",
        ["Johann Sebastian Bach", "George Frideric Handel", "Arcangelo Corelli"],
    ),
    (
        "music",
        "Who composed the opera 'The Magic Flute'?",
        "Wolfgang Amadeus Mozart",
        ["Ludwig van Beethoven", "Joseph Haydn", "Franz Schubert"],
    ),
    (
        "music",
        "Who composed the 'Moonlight Sonata'?",
        "Ludwig van Beethoven",
        ["Frederic Chopin", "Franz Liszt", "Wolfgang Amadeus Mozart"],
    ),
    (
        "music",
        "Who composed the ballet 'Swan Lake'?",
        "Pyotr Ilyich Tchaikovsky",
        ["Sergei Prokofiev", "Igor Stravinsky", "Sergei Rachmaninoff"],
    ),
    (
        "music",
        "Who composed the opera 'Carmen'?",
        "Georges Bizet",
        ["Giuseppe Verdi", "Giacomo Puccini", "Gioachino Rossini"],
    ),
    ("music", "How many keys does a standard piano have?", "88", ["76", "84", "96"]),
    ("music", "How many strings does a standard violin have?", "4", ["3", "5", "6"]),
    ("music", "How many lines does a musical staff have?", "5", ["4", "6", "7"]),
    (
        "music",
        "Which band released the album 'Abbey Road'?",
        "The Beatles",
        ["The Rolling Stones", "Pink Floyd", "The Who"],
    ),
    (
        "history",
        "Who was the first president of the United States?",
        "George Washington",
        ["John Adams", "Thomas Jefferson", "Abraham Lincoln"],
    ),
    ("history", "In which year did World War II end?", "1945", ["1939", "1944", "1946"]),
    ("history", "In which year did World War I begin?", "1914", ["1912", "1916", "1918"]),
    ("history", "In which year did the Titanic sink?", "1912", ["1905", "1915", "1920"]),
    ("history", "In which year did the Berlin Wall fall?", "1989", ["1985", "1987", "1991"]),
    (
        "history",
        "In which year did Christopher Columbus first reach the Americas?",
        "1492",
        ["1488", "1498", "1502"],
    ),
    ("history", "In which year did the French Revolution begin?", "1789", ["1776", "1799", "1815"]),
    ("history", "Who was the first emperor of Rome?", "Augustus", ["Julius Caesar", "Nero", "Caligula"]),
    (
        "history",
        "Who was the main author of the Declaration of Independence?",
        "Thomas Jefferson",
        ["Benjamin Franklin", "John Adams", "George Washington"],
    ),
    (
        "history",
        "What was the name of the ship that carried the Pilgrims to America in 1620?",
        "Mayflower",
        ["Santa Maria", "Endeavour", "Beagle"],
    ),
    (
        "history",
        "Who was the British prime minister for most of World War II?",
        "Winston Churchill",
        ["Neville Chamberlain", "Clement Attlee", "Anthony Eden"],
    ),
    (
        "history",
        "Who was the first woman to win a Nobel Prize?",
        "Marie Curie",
        ["Rosalind Franklin", "Ada Lovelace", "Dorothy Hodgkin"],
    ),
    (
        "history",
        "Which ancient civilization built the pyramids of Giza?",
        "Egyptians",
        ["Romans", "Greeks", "Maya"],
    ),
    (
        "history",
        "Who introduced printing with movable metal type to Europe?",
        "Johannes Gutenberg",
        ["William Caxton", "Leonardo da Vinci", "Galileo Galilei"],
    ),
    (
        "history",
        "Who discovered penicillin?",
        "Alexander Fleming",
        ["Louis Pasteur", "Joseph Lister", "Edward Jenner"],
    ),
    (
        "history",
        "Who is usually credited with inventing the telephone?",
        "Alexander Graham Bell",
        ["Thomas Edison", "Nikola Tesla", "Guglielmo Marconi"],
    ),
    (
        "history",
        "Which astronomer put the Sun at the centre of the universe in 'On the Revolutions of the "
        "Heavenly Spheres'?",
        "Nicolaus Copernicus",
        ["Galileo Galilei", "Johannes Kepler", "Tycho Brahe"],
    ),
    (
        "history",
        "Who was the first female prime minister of the United Kingdom?",
        "Margaret Thatcher",
        ["Theresa May", "Barbara Castle", "Shirley Williams"],
    ),
    (
        "history",
        "Which empire did Genghis Khan found?",
        "Mongol Empire",
        ["Ottoman Empire", "Persian Empire", "Roman Empire"],
    ),
    ("mathematics", "How many sides does an octagon have?", "8", ["6", "7", "10"]),
    ("mathematics", "How many sides does a pentagon have?", "5", ["4", "6", "7"]),
    ("mathematics", "How many sides does a heptagon have?", "7", ["6", "8", "9"]),
    ("mathematics", "What is the square root of 144?", "12", ["11", "14", "16"]),
    ("mathematics", "What is the square root of 81?", "9", ["7", "8", "11"]),
    (
        "mathematics",
        "What is the value of pi rounded to two decimal places?",
        "3.14",
        ["3.12", "3.16", "3.41"],
    ),
    ("mathematics", "How many degrees are in a right angle?", "90", ["45", "100", "180"]),
    (
        "mathematics",
        "What is the sum of the interior angles of a triangle in degrees?",
        "180",
        ["90", "270", "360"],
    ),
    ("mathematics", "How many degrees are in a full circle?", "360", ["180", "270", "400"]),
    ("mathematics", "What number does the Roman numeral L stand for?", "50", ["5", "100", "500"]),
    ("mathematics", "What number does the Roman numeral C stand for?", "100", ["50", "500", "1000"]),
    ("mathematics", "What number does the Roman numeral M stand for?", "1000", ["100", "500", "5000"]),
    ("mathematics", "How many zeros are there in one million?", "6", ["5", "7", "9"]),
    ("mathematics", "What is 12 squared?", "144", ["124", "132", "154"]),
    ("mathematics", "How many seconds are there in an hour?", "3600", ["360", "600", "6000"]),
    ("mathematics", "How many days are there in a leap year?", "366", ["360", "364", "365"]),
    ("mathematics", "How many edges does a cube have?", "12", ["6", "8", "10"]),
    ("mathematics", "How many faces does a cube have?", "6", ["4", "8", "12"]),
]


def _knowledge(rng: random.Random) -> list[dict[str, Any]]:
    # The topic is a label (metadata), not a `group`: the questions were written one by one, not
    # drawn as clusters, and every topic is in every run, so topics are fixed strata rather than
    # clustered samples; clustering by 12 topics would only throw away power.
    samples = []
    for i, (topic, question, right, wrong) in enumerate(KNOWLEDGE):
        options = [right, *wrong]
        rng.shuffle(options)
        letter = "ABCD"[options.index(right)]
        samples.append(
            {
                "id": f"know-{i + 1:03d}",
                "vars": {"question": question},
                "choices": options,
                "target": letter,
                "metadata": {"topic": topic},
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
    "Aiko Tanaka",
    "Tomasz Nowak",
    "Lucia Fernandez",
    "Oliver Grant",
    "Fatima Haddad",
    "Pieter Jansen",
    "Grace Mwangi",
    "Sven Johansson",
    "Leila Karimi",
    "Samuel Adeyemi",
    "Mia Hoffmann",
    "Ethan Brooks",
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
    "Beacon LED Headlamp",
    "Harbor Canvas Tote",
    "Ember Camping Stove",
    "Tide Insulated Mug",
    "Pioneer Multi-Tool",
    "Alpine Wool Socks",
    "Ridge Trail Gloves",
    "Drift Beach Towel",
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
        "Hello, this is {name}. Please send {q} x {product} to replace the ones missing from order {oid}. "
        "My email is {email}.",
        "I'm {name} and my order {oid} should have held {q} x {product}, but the parcel was empty. "
        "Contact: {email}",
        "Dear support team,\n\nI would like to add {q} units of {product} to order {oid} if it has not "
        "shipped yet.\n\nSincerely,\n{name}\n{email}",
        "Can you update order {oid}? I need {q} x {product}, not one. Thanks, {name}, {email}",
        "Hello, my name is {name}. My email address is {email}. I was sent {q} x {product} under order "
        "{oid} but I only ordered one.",
        "{name}\n{email}\n\nPlease cancel {q} of the {product} on order {oid}; I will keep the rest.",
        "Good morning, I am {name} and I placed order {oid} for {q} pieces of {product}. "
        "Please confirm at {email}.",
    ]
    samples = []
    for i in range(SAMPLES):
        name = PEOPLE[i % len(PEOPLE)]
        first, last = name.split(" ", 1)
        local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
        email = f"{local}@{rng.choice(DOMAINS)}"
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
        "I'd like my money back for the {product} from order {oid}; I changed my mind.",
        "Order {oid}: the {product} isn't what I ordered. How long do I have to ask for a refund?",
        "Could you reimburse me for order {oid}? I sent the {product} back on Tuesday.",
    ],
    "shipping_delay": [
        "My order {oid} was supposed to arrive three days ago and it still isn't here. Where is it?",
        "Tracking for order {oid} hasn't updated since Monday. Is my {product} lost?",
        "I need the {product} from order {oid} by Saturday for a trip. It's late. "
        "Can you make sure it arrives?",
        "Order {oid} hasn't arrived yet and it was due on Friday. Can you check on it?",
        "The delivery of order {oid} seems to be delayed. Any news on my {product}?",
        "Where is my {product}? Order {oid} has shown no movement for a week.",
    ],
    "password_reset": [
        "I can't log in to check my order {oid}. I forgot my password.",
        "My account is locked after too many password attempts and I need to see order {oid}.",
        "The sign in page keeps rejecting me, so I can't follow order {oid}.",
        "How do I reset my password? I want to look at order {oid} again.",
    ],
    "cancellation": [
        "Please cancel order {oid}. I ordered the {product} by mistake.",
        "I want to cancel my order {oid} before it ships.",
        "Can you cancel order {oid}? I found the {product} cheaper elsewhere.",
        "I no longer need the {product}. Is it too late to cancel order {oid}?",
    ],
    "damaged_item": [
        "The {product} in order {oid} arrived broken. The box was crushed.",
        "Order {oid} came with a damaged {product}. What can you do?",
        "The {product} from order {oid} is cracked along one side.",
        "My {product} (order {oid}) is defective and fell apart the first time I used it.",
    ],
    "address_change": [
        "I moved last week. Can you change the delivery address for order {oid}?",
        "I entered the wrong street number for order {oid}. Can the address still be changed?",
        "Please send order {oid} to my new address instead: 14 Elm Road, Leeds.",
        "Can the address on order {oid} be updated? I'm staying with my parents this month.",
    ],
    "question": [
        "Does the {product} in order {oid} come with a warranty?",
        "What are the care instructions for the {product} in order {oid}?",
        "Could you email me an invoice for order {oid}? I need it for my expenses.",
    ],
}
# A customer writing several times about one order: the messages share a group (one cluster).
THREADS = [
    ("shipping_delay", "refund"),
    ("damaged_item", "refund"),
    ("password_reset", "cancellation"),
    ("shipping_delay", "cancellation", "refund"),
    ("question", "address_change"),
    ("address_change", "shipping_delay"),
    ("damaged_item", "question"),
    ("cancellation", "refund"),
]
# The share of samples that are follow-ups in a thread.
THREADED_SHARE = 0.25


def _support(rng: random.Random) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(intent: str, name: str, oid: str, group: str | None) -> None:
        message = ""
        while not message or message in seen:
            message = rng.choice(SUPPORT_MESSAGES[intent]).format(oid=oid, product=rng.choice(PRODUCTS))
        seen.add(message)
        sample: dict[str, Any] = {
            "id": f"support-{len(samples) + 1:03d}",
            "vars": {"customer_name": name, "message": message},
            "target": intent,
        }
        if group:
            sample["group"] = group
        samples.append(sample)

    threads = 0
    while len(samples) < THREADED_SHARE * SAMPLES:
        name, oid = rng.choice(PEOPLE), f"NW-{rng.randint(10000, 99999)}"
        for intent in THREADS[threads % len(THREADS)]:
            add(intent, name, oid, f"thread-{oid}")
        threads += 1
    intents = list(SUPPORT_MESSAGES)
    while len(samples) < SAMPLES:
        add(intents[len(samples) % len(intents)], rng.choice(PEOPLE), f"NW-{rng.randint(10000, 99999)}", None)
    return samples


def _check(suites: dict[str, list[dict[str, Any]]]) -> None:
    """Every sample is one the simulator can solve: it must tell a strong model from a weak one."""
    from monitor.simulator.facts import normalise, recall
    from monitor.simulator.solve_arithmetic import evaluate
    from monitor.simulator.solve_extraction import extract
    from monitor.simulator.solve_support import classify

    problems = []
    for s in suites["arithmetic"]:
        value = evaluate(s["vars"]["question"])
        if value is None or abs(value - s["target"]) > 1e-6:
            problems.append(f"{s['id']}: the simulator computes {value}, the target is {s['target']}")
    for s in suites["knowledge"]:
        right = s["choices"]["ABCD".index(s["target"])]
        known = recall(s["vars"]["question"])
        if known is None or normalise(known) != normalise(right):
            problems.append(f"{s['id']}: the simulator recalls {known!r}, the answer is {right!r}")
    for s in suites["extraction"]:
        if extract(s["vars"]["message"]) != s["target"]:
            problems.append(f"{s['id']}: the simulator extracts {extract(s['vars']['message'])}")
    for s in suites["support"]:
        intent = classify(s["vars"]["message"])
        if intent != ("other" if s["target"] == "question" else s["target"]):
            problems.append(f"{s['id']}: the simulator reads {intent!r}, the target is {s['target']!r}")
    if problems:
        raise SystemExit("samples the simulator cannot solve:\n  " + "\n  ".join(problems))


def write(name: str, samples: list[dict[str, Any]]) -> None:
    path = EVALS / f"{name}.jsonl"
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples), encoding="utf-8")
    print(f"{path.relative_to(EVALS.parent)}: {len(samples)} samples")


def main() -> None:
    suites = {
        "arithmetic": _arithmetic(random.Random(1)),
        "knowledge": _knowledge(random.Random(2)),
        "extraction": _extraction(random.Random(3)),
        "support": _support(random.Random(4)),
    }
    if len(suites["knowledge"]) != SAMPLES:
        raise SystemExit(f"KNOWLEDGE has {len(suites['knowledge'])} questions; the suites have {SAMPLES}")
    _check(suites)
    for name, samples in suites.items():
        write(name, samples)


if __name__ == "__main__":
    main()
