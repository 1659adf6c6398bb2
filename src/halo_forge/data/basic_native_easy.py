"""``basic_native`` easy tier: read one or two values, print one expression of them."""

from __future__ import annotations

import random

from halo_forge.data.basic_native_base import (
    INT_NAMES,
    PEOPLE,
    Instance,
    Refs,
    Template,
    numbers,
    pair_layout,
    registrar,
)

TEMPLATES: list[Template] = []
_template = registrar(TEMPLATES, "easy")


def _pair_cases(rng: random.Random) -> list[tuple[int, int]]:
    v = rng.randint(-20, 20)
    return [
        (rng.randint(2, 30), rng.randint(2, 30)),
        (0, 0),
        (-rng.randint(1, 50), rng.randint(1, 50)),
        (-rng.randint(1, 50), -rng.randint(1, 50)),
        (v, v),
        (1000, rng.choice([999, 1000, -1000])),
    ]


_SUM_TWO = Refs(
    cpp="""
#include <iostream>

int main() {
    long long a, b;
    std::cin >> a >> b;
    std::cout << a + b << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let nums: Vec<i64> = input.split_whitespace().map(|t| t.parse().unwrap()).collect();
    println!("{}", nums[0] + nums[1]);
}
""",
    go="""
package main

import "fmt"

func main() {
    var a, b int
    fmt.Scan(&a, &b)
    fmt.Println(a + b)
}
""",
)


@_template(0.10)
def _t_sum_two(rng: random.Random) -> Instance:
    lay = pair_layout(rng)
    return Instance(
        task=f"reads two integers {lay.a} and {lay.b} and prints their sum",
        input_format=f"{lay.text}; -1000 <= {lay.a}, {lay.b} <= 1000.",
        output_format=f"one line with the value of {lay.a} + {lay.b}.",
        inputs=[lay.render(a, b) for a, b in _pair_cases(rng)],
        truth=lambda s: f"{sum(numbers(s))}\n",
        sources=_SUM_TWO.fill(),
        key=lay.key,
    )


_DIFFERENCE_TWO = Refs(
    cpp="""
#include <iostream>

int main() {
    int a = 0, b = 0;
    std::cin >> a >> b;
    std::cout << a - b << std::endl;
}
""",
    rust="""
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let mut it = input.split_whitespace().map(|t| t.parse::<i64>().unwrap());
    let a = it.next().unwrap();
    let b = it.next().unwrap();
    println!("{}", a - b);
}
""",
    go="""
package main

import (
    "bufio"
    "fmt"
    "os"
)

func main() {
    in := bufio.NewReader(os.Stdin)
    var a, b int
    fmt.Fscan(in, &a, &b)
    fmt.Println(a - b)
}
""",
)


@_template(0.12)
def _t_difference_two(rng: random.Random) -> Instance:
    lay = pair_layout(rng)

    def truth(s: str) -> str:
        a, b = numbers(s)
        return f"{a - b}\n"

    return Instance(
        task=f"reads two integers {lay.a} and {lay.b} and prints {lay.a} minus {lay.b}",
        input_format=f"{lay.text}; -1000 <= {lay.a}, {lay.b} <= 1000.",
        output_format=f"one line with the value of {lay.a} - {lay.b} (it may be negative).",
        inputs=[lay.render(a, b) for a, b in _pair_cases(rng)],
        truth=truth,
        sources=_DIFFERENCE_TWO.fill(),
        key=lay.key,
    )


_MAX_OF_TWO = Refs(
    cpp="""
#include <algorithm>
#include <iostream>

int main() {
    int a, b;
    std::cin >> a >> b;
    std::cout << std::max(a, b) << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let v: Vec<i32> = input.split_whitespace().map(|t| t.parse().unwrap()).collect();
    println!("{}", v[0].max(v[1]));
}
""",
    go="""
package main

import "fmt"

func main() {
    var a, b int
    fmt.Scan(&a, &b)
    if a > b {
        fmt.Println(a)
    } else {
        fmt.Println(b)
    }
}
""",
)


@_template(0.15)
def _t_max_of_two(rng: random.Random) -> Instance:
    lay = pair_layout(rng)
    return Instance(
        task=f"reads two integers {lay.a} and {lay.b} and prints the larger of the two",
        input_format=f"{lay.text}; -1000 <= {lay.a}, {lay.b} <= 1000.",
        output_format="one line with the larger number (if they are equal, print that number).",
        inputs=[lay.render(a, b) for a, b in _pair_cases(rng)],
        truth=lambda s: f"{max(numbers(s))}\n",
        sources=_MAX_OF_TWO.fill(),
        key=lay.key,
    )


_ADD_CONSTANT = Refs(
    cpp="""
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    std::cout << n + $k << "\\n";
    return 0;
}
""",
    rust="""
fn main() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let n: i64 = line.trim().parse().unwrap();
    println!("{}", n + $k);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int
    fmt.Scan(&n)
    fmt.Println(n + $k)
}
""",
)


@_template(0.10)
def _t_add_constant(rng: random.Random) -> Instance:
    k = rng.randint(2, 30)
    n = rng.choice(INT_NAMES)
    cases = [rng.randint(1, 50), 0, -rng.randint(1, 50), -k, 1000]
    return Instance(
        task=f"reads an integer {n} and prints {n} plus {k}",
        input_format=f"one integer {n} (-1000 <= {n} <= 1000).",
        output_format=f"one line with the value of {n} + {k}.",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: f"{int(s) + k}\n",
        sources=_ADD_CONSTANT.fill(k=k),
        key={"k": k},
    )


_MULTIPLY_CONSTANT = Refs(
    cpp="""
#include <iostream>

int main() {
    long long n = 0;
    std::cin >> n;
    std::cout << n * $k << std::endl;
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let n: i64 = s.trim().parse().unwrap();
    println!("{}", n * $k);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int64
    fmt.Scan(&n)
    fmt.Println(n * $k)
}
""",
)


@_template(0.12)
def _t_multiply_constant(rng: random.Random) -> Instance:
    k = rng.randint(2, 25)
    n = rng.choice(INT_NAMES)
    cases = [rng.randint(2, 20), 0, 1, -rng.randint(1, 20), 1000]
    return Instance(
        task=f"reads an integer {n} and prints {n} multiplied by {k}",
        input_format=f"one integer {n} (-1000 <= {n} <= 1000).",
        output_format=f"one line with the value of {n} * {k}.",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: f"{int(s) * k}\n",
        sources=_MULTIPLY_CONSTANT.fill(k=k),
        key={"k": k},
    )


_REMAINDER = Refs(
    cpp="""
#include <cstdio>

int main() {
    long long n;
    if (std::scanf("%lld", &n) != 1) {
        return 1;
    }
    std::printf("%lld\\n", n % $k);
    return 0;
}
""",
    rust="""
use std::io::BufRead;

fn main() {
    let line = std::io::stdin().lock().lines().next().unwrap().unwrap();
    let n: u64 = line.trim().parse().unwrap();
    println!("{}", n % $k);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int
    if _, err := fmt.Scan(&n); err != nil {
        return
    }
    fmt.Println(n % $k)
}
""",
)


@_template(0.15)
def _t_remainder(rng: random.Random) -> Instance:
    k = rng.randint(2, 20)
    n = rng.choice(INT_NAMES)
    cases = [k * rng.randint(2, 9) + rng.randint(1, k - 1), 0, k - 1, k, k * rng.randint(3, 9)]
    cases.append(1000000)
    return Instance(
        task=f"reads a non-negative integer {n} and prints the remainder of {n} divided by {k}",
        input_format=f"one integer {n} (0 <= {n} <= 1000000).",
        output_format=f"one line with the remainder (a number from 0 to {k - 1}).",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: f"{int(s) % k}\n",
        sources=_REMAINDER.fill(k=k),
        key={"k": k},
    )


_DIVISIBLE_BY = Refs(
    cpp="""
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    if (n % $k == 0) {
        std::cout << "$yes" << "\\n";
    } else {
        std::cout << "$no" << "\\n";
    }
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let n: i32 = input.trim().parse().unwrap();
    let answer = if n % $k == 0 { "$yes" } else { "$no" };
    println!("{}", answer);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int
    fmt.Scan(&n)
    if n%$k == 0 {
        fmt.Println("$yes")
    } else {
        fmt.Println("$no")
    }
}
""",
)
_YES_NO = (("yes", "no"), ("YES", "NO"), ("Yes", "No"))


@_template(0.20)
def _t_divisible_by(rng: random.Random) -> Instance:
    k = rng.randint(2, 12)
    yes, no = rng.choice(_YES_NO)
    n = rng.choice(INT_NAMES)
    cases = [
        k * rng.randint(2, 9),
        k * rng.randint(2, 9) + rng.randint(1, k - 1),
        0,
        -k * rng.randint(1, 9),
        -(k * rng.randint(1, 9) + rng.randint(1, k - 1)),
        k + 1,
    ]
    return Instance(
        task=f"reads an integer {n} and prints {yes} if {n} is divisible by {k}, or {no} if not",
        input_format=f"one integer {n} (-1000 <= {n} <= 1000); it may be zero or negative.",
        output_format=f"one line with {yes} or {no}.",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: f"{yes if int(s) % k == 0 else no}\n",
        sources=_DIVISIBLE_BY.fill(k=k, yes=yes, no=no),
        key={"k": k, "yes": yes},
    )


_GREET = Refs(
    cpp="""
#include <iostream>
#include <string>

int main() {
    std::string name;
    std::cin >> name;
    std::cout << "$greeting, " << name << "$mark" << std::endl;
    return 0;
}
""",
    rust="""
fn main() {
    let mut name = String::new();
    std::io::stdin().read_line(&mut name).unwrap();
    println!("$greeting, {}$mark", name.trim());
}
""",
    go="""
package main

import "fmt"

func main() {
    var name string
    fmt.Scan(&name)
    fmt.Printf("$greeting, %s$mark\\n", name)
}
""",
)
_GREETINGS = ("Hello", "Hi", "Hey", "Welcome", "Good morning", "Greetings", "Good evening")


@_template(0.15)
def _t_greet(rng: random.Random) -> Instance:
    greeting = rng.choice(_GREETINGS)
    mark = rng.choice("!.")
    names = rng.sample(PEOPLE, 5)
    return Instance(
        task="reads a name and greets it",
        input_format="one line with a name (a single word of letters).",
        output_format=f'one line with the text "{greeting}, NAME{mark}" where NAME is the name '
        "that was read.",
        inputs=[f"{v}\n" for v in names],
        truth=lambda s: f"{greeting}, {s.strip()}{mark}\n",
        sources=_GREET.fill(greeting=greeting, mark=mark),
        key={"greeting": greeting, "mark": mark},
    )
