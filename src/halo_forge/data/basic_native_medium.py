"""``basic_native`` medium tier: one loop (over a list of numbers, a range or a line of text)."""

from __future__ import annotations

import math
import random

from halo_forge.data.basic_native_base import (
    INT_NAMES,
    WORDS,
    Instance,
    Refs,
    Template,
    ints,
    list_layout,
    list_of,
    phrase,
    registrar,
)

TEMPLATES: list[Template] = []
_template = registrar(TEMPLATES, "medium")


_SUM_LIST = Refs(
    cpp="""
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    long long total = 0;
    for (int i = 0; i < n; i++) {
        long long x;
        std::cin >> x;
        total += x;
    }
    std::cout << total << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let mut tokens = input.split_whitespace();
    let n: usize = tokens.next().unwrap().parse().unwrap();
    let total: i64 = tokens.take(n).map(|t| t.parse::<i64>().unwrap()).sum();
    println!("{}", total);
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
    reader := bufio.NewReader(os.Stdin)
    var n int
    fmt.Fscan(reader, &n)
    total := 0
    for i := 0; i < n; i++ {
        var x int
        fmt.Fscan(reader, &x)
        total += x
    }
    fmt.Println(total)
}
""",
)


@_template(0.35)
def _t_sum_list(rng: random.Random) -> Instance:
    lay = list_layout(rng)
    cases = [
        ints(rng, rng.randint(3, 6), 0, 30),
        [],
        [rng.randint(-9, 9)],
        ints(rng, 7),
        [1000] * 10,
    ]
    return Instance(
        task=f"reads {lay.n} integers and prints their sum",
        input_format=f"{lay.text(0)}; each integer is between -1000 and 1000.",
        output_format=f"one line with the sum (0 when {lay.n} is 0).",
        inputs=[lay.render(xs) for xs in cases],
        truth=lambda s: f"{sum(list_of(s))}\n",
        sources=_SUM_LIST.fill(),
        key=lay.key,
    )


_MAX_LIST = Refs(
    cpp="""
#include <iostream>
#include <vector>

int main() {
    int n;
    std::cin >> n;
    std::vector<int> v(n);
    for (int &x : v) {
        std::cin >> x;
    }
    int best = v[0];
    for (int x : v) {
        if (x > best) {
            best = x;
        }
    }
    std::cout << best << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let mut it = input.split_whitespace().map(|t| t.parse::<i64>().unwrap());
    let n = it.next().unwrap() as usize;
    let best = it.take(n).max().unwrap();
    println!("{}", best);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int
    fmt.Scan(&n)
    best := 0
    for i := 0; i < n; i++ {
        var x int
        fmt.Scan(&x)
        if i == 0 || x > best {
            best = x
        }
    }
    fmt.Println(best)
}
""",
)


@_template(0.40)
def _t_max_list(rng: random.Random) -> Instance:
    lay = list_layout(rng)
    top = rng.randint(10, 60)
    cases = [
        ints(rng, rng.randint(4, 7)),
        [rng.randint(-99, 99)],
        ints(rng, 5, -90, -10),
        [*ints(rng, 4, -9, 9), top],
        [top, *ints(rng, 4, -9, 9), top],
    ]
    return Instance(
        task=f"reads {lay.n} integers and prints the largest of them",
        input_format=f"{lay.text(1)}; each integer is between -1000 and 1000.",
        output_format="one line with the largest integer.",
        inputs=[lay.render(xs) for xs in cases],
        truth=lambda s: f"{max(list_of(s))}\n",
        sources=_MAX_LIST.fill(),
        key=lay.key,
    )


_COUNT_GREATER = Refs(
    cpp="""
#include <iostream>

int main() {
    int n = 0;
    std::cin >> n;
    int count = 0;
    while (n-- > 0) {
        int x;
        std::cin >> x;
        if (x > $k) {
            count++;
        }
    }
    std::cout << count << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let values: Vec<i64> = input.split_whitespace().map(|t| t.parse().unwrap()).collect();
    let n = values[0] as usize;
    let count = values[1..=n].iter().filter(|&&x| x > $k).count();
    println!("{}", count);
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
    var n int
    fmt.Fscan(in, &n)
    count := 0
    for ; n > 0; n-- {
        var x int
        fmt.Fscan(in, &x)
        if x > $k {
            count++
        }
    }
    fmt.Println(count)
}
""",
)


@_template(0.40)
def _t_count_greater(rng: random.Random) -> Instance:
    k = rng.randint(0, 20)
    lay = list_layout(rng)
    cases = [
        [*ints(rng, 6, -5, 30), k],
        [],
        [k, k - 1, -3],
        ints(rng, 5, k + 1, 50),
        [k + 1],
    ]
    return Instance(
        task=f"reads {lay.n} integers and prints how many of them are greater than {k}",
        input_format=f"{lay.text(0)}; each integer is between -1000 and 1000.",
        output_format=f"one line with the count of integers strictly greater than {k} "
        f"(a number equal to {k} does not count).",
        inputs=[lay.render(xs) for xs in cases],
        truth=lambda s: f"{sum(v > k for v in list_of(s))}\n",
        sources=_COUNT_GREATER.fill(k=k),
        key={"k": k},
    )


_TIMES_TABLE = Refs(
    cpp="""
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    for (int i = 1; i <= $k; i++) {
        std::cout << n << " x " << i << " = " << n * i << "\\n";
    }
    return 0;
}
""",
    rust="""
fn main() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let n: i32 = line.trim().parse().unwrap();
    for i in 1..=$k {
        println!("{} x {} = {}", n, i, n * i);
    }
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int
    fmt.Scan(&n)
    for i := 1; i <= $k; i++ {
        fmt.Printf("%d x %d = %d\\n", n, i, n*i)
    }
}
""",
)


@_template(0.35)
def _t_times_table(rng: random.Random) -> Instance:
    k = rng.randint(3, 12)
    n = rng.choice(INT_NAMES)
    cases = [rng.randint(2, 12), 1, 0, -rng.randint(2, 9), 100]

    def truth(s: str) -> str:
        v = int(s)
        return "".join(f"{v} x {i} = {v * i}\n" for i in range(1, k + 1))

    return Instance(
        task=f"reads an integer {n} and prints the first {k} lines of its multiplication table",
        input_format=f"one integer {n} (-100 <= {n} <= 100).",
        output_format=f"{k} lines; line i (for i from 1 to {k}) is "
        f"`{n} x i = product` with the actual numbers, e.g. for {n} = 3 the first line is "
        "`3 x 1 = 3`.",
        inputs=[f"{v}\n" for v in cases],
        truth=truth,
        sources=_TIMES_TABLE.fill(k=k),
        key={"k": k},
    )


_FACTORIAL = Refs(
    cpp="""
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    long long result = 1;
    for (int i = 2; i <= n; ++i) {
        result *= i;
    }
    std::cout << result << std::endl;
    return 0;
}
""",
    rust="""
fn main() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let n: u64 = line.trim().parse().unwrap();
    let result: u64 = (1..=n).product();
    println!("{}", result);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int
    fmt.Scan(&n)
    result := int64(1)
    for i := 2; i <= n; i++ {
        result *= int64(i)
    }
    fmt.Println(result)
}
""",
)


@_template(0.45)
def _t_factorial(rng: random.Random) -> Instance:
    n = rng.choice(INT_NAMES)
    cases = [rng.randint(3, 6), 0, 1, rng.randint(7, 11), 12]
    return Instance(
        task=f"reads an integer {n} and prints the factorial of {n}",
        input_format=f"one integer {n} (0 <= {n} <= 12).",
        output_format=f"one line with {n}! = 1 * 2 * ... * {n} (the factorial of 0 is 1).",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: f"{math.factorial(int(s))}\n",
        sources=_FACTORIAL.fill(),
        key={"names": [n]},
    )


_COUNT_CHAR = Refs(
    cpp="""
#include <iostream>
#include <string>

int main() {
    std::string line;
    std::getline(std::cin, line);
    int count = 0;
    for (char c : line) {
        if (c == '$c') {
            count++;
        }
    }
    std::cout << count << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).unwrap();
    println!("{}", text.chars().filter(|&c| c == '$c').count());
}
""",
    go="""
package main

import (
    "fmt"
    "io"
    "os"
    "strings"
)

func main() {
    data, _ := io.ReadAll(os.Stdin)
    fmt.Println(strings.Count(string(data), "$c"))
}
""",
)


@_template(0.45)
def _t_count_char(rng: random.Random) -> Instance:
    c = rng.choice("abcdeilmnoprstu")
    with_c = [w for w in WORDS if c in w]
    without = [w for w in WORDS if c not in w]
    cases = [
        " ".join(rng.sample(with_c, min(3, len(with_c))) + rng.sample(without, 1)),
        " ".join(rng.sample(without, 2)),
        c,
        c * rng.randint(2, 6) + " " + c * rng.randint(1, 3),
        phrase(rng, 5),
    ]
    return Instance(
        task=f"reads a line of text and prints how many times the letter {c} appears in it",
        input_format="one line of lowercase words separated by single spaces.",
        output_format=f"one line with the number of times {c} occurs (0 if it does not occur).",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: f"{s.count(c)}\n",
        sources=_COUNT_CHAR.fill(c=c),
        key={"c": c},
    )


_FIZZ = Refs(
    cpp="""
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    for (int i = 1; i <= n; i++) {
        if (i % $k == 0) {
            std::cout << "$word\\n";
        } else {
            std::cout << i << "\\n";
        }
    }
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let n: u32 = s.trim().parse().unwrap();
    for i in 1..=n {
        if i % $k == 0 {
            println!("$word");
        } else {
            println!("{}", i);
        }
    }
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
    var n int
    fmt.Scan(&n)
    out := bufio.NewWriter(os.Stdout)
    defer out.Flush()
    for i := 1; i <= n; i++ {
        if i%$k == 0 {
            fmt.Fprintln(out, "$word")
        } else {
            fmt.Fprintln(out, i)
        }
    }
}
""",
)
_FIZZ_WORDS = ("Fizz", "Buzz", "Beep", "Boop", "Ping", "Zap", "Bang", "Pop")


@_template(0.50)
def _t_fizz(rng: random.Random) -> Instance:
    k = rng.randint(3, 7)
    word = rng.choice(_FIZZ_WORDS)
    n = rng.choice(INT_NAMES)
    cases = [2 * k + rng.randint(1, k - 1), 1, k, k - 1, rng.randint(20, 30)]

    def truth(s: str) -> str:
        return "".join(f"{word if i % k == 0 else i}\n" for i in range(1, int(s) + 1))

    return Instance(
        task=f"reads an integer {n} and prints the numbers from 1 to {n}, one per line, "
        f"except that every number divisible by {k} is replaced by the word {word}",
        input_format=f"one integer {n} (1 <= {n} <= 100).",
        output_format=f"{n} lines.",
        inputs=[f"{v}\n" for v in cases],
        truth=truth,
        sources=_FIZZ.fill(k=k, word=word),
        key={"k": k, "word": word},
    )


_DIGIT_SUM = Refs(
    cpp="""
#include <iostream>

int main() {
    long long n;
    std::cin >> n;
    int sum = 0;
    while (n > 0) {
        sum += static_cast<int>(n % 10);
        n /= 10;
    }
    std::cout << sum << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let sum: u32 = input.trim().chars().filter_map(|c| c.to_digit(10)).sum();
    println!("{}", sum);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int64
    fmt.Scan(&n)
    sum := int64(0)
    for n > 0 {
        sum += n % 10
        n /= 10
    }
    fmt.Println(sum)
}
""",
)


@_template(0.45)
def _t_digit_sum(rng: random.Random) -> Instance:
    n = rng.choice(INT_NAMES)
    cases = [rng.randint(100, 99999), 0, rng.randint(1, 9), 1000000000, 999999999]
    return Instance(
        task=f"reads a non-negative integer {n} and prints the sum of its decimal digits",
        input_format=f"one integer {n} (0 <= {n} <= 1000000000).",
        output_format=f"one line with the digit sum (for example 1 + 2 + 3 = 6 for {n} = 123).",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: f"{sum(int(d) for d in s.strip())}\n",
        sources=_DIGIT_SUM.fill(),
        key={"names": [n]},
    )
