"""``basic_native`` hard tier: a small algorithm with edge cases (primes, bases, ciphers...)."""

from __future__ import annotations

import math
import random

from halo_forge.data.basic_native_base import (
    INT_NAMES,
    WORD_NAMES,
    WORDS,
    Instance,
    Refs,
    Template,
    ints,
    list_layout,
    list_of,
    numbers,
    pair_layout,
    registrar,
)

TEMPLATES: list[Template] = []
_template = registrar(TEMPLATES, "hard")


_IS_PRIME = Refs(
    cpp="""
#include <iostream>

bool is_prime(long long n) {
    if (n < 2) {
        return false;
    }
    for (long long d = 2; d * d <= n; d++) {
        if (n % d == 0) {
            return false;
        }
    }
    return true;
}

int main() {
    long long n;
    std::cin >> n;
    std::cout << (is_prime(n) ? "$yes" : "$no") << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn is_prime(n: i64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let n: i64 = input.trim().parse().unwrap();
    println!("{}", if is_prime(n) { "$yes" } else { "$no" });
}
""",
    go="""
package main

import "fmt"

func isPrime(n int) bool {
    if n < 2 {
        return false
    }
    for d := 2; d*d <= n; d++ {
        if n%d == 0 {
            return false
        }
    }
    return true
}

func main() {
    var n int
    fmt.Scan(&n)
    if isPrime(n) {
        fmt.Println("$yes")
    } else {
        fmt.Println("$no")
    }
}
""",
)
_PRIME_WORDS = (
    ("yes", "no"),
    ("YES", "NO"),
    ("prime", "not prime"),
    ("Prime", "Not prime"),
    ("true", "false"),
    ("P", "N"),
)


@_template(0.70)
def _t_is_prime(rng: random.Random) -> Instance:
    yes, no = rng.choice(_PRIME_WORDS)
    n = rng.choice(INT_NAMES)
    cases = [
        rng.choice([13, 17, 19, 23, 29, 31, 37, 41, 43, 47]),
        1,
        rng.choice([0, 2]),
        rng.choice([21, 49, 91, 77, 15, 121, 169]),
        -rng.choice([3, 7, 11]),
        rng.choice([999983, 1000000, 999979, 998001]),
    ]

    def truth(s: str) -> str:
        v = int(s)
        prime = v >= 2 and all(v % d for d in range(2, math.isqrt(v) + 1))
        return f"{yes if prime else no}\n"

    return Instance(
        task=f"reads an integer {n} and prints {yes} if {n} is a prime number, or {no} if not",
        input_format=f"one integer {n} (-1000 <= {n} <= 1000000). Numbers below 2 "
        "(0, 1 and all negative numbers) are not prime.",
        output_format=f"one line with {yes} or {no}.",
        inputs=[f"{v}\n" for v in cases],
        truth=truth,
        sources=_IS_PRIME.fill(yes=yes, no=no),
        key={"yes": yes, "names": [n]},
    )


_GCD = Refs(
    cpp="""
#include <iostream>

int main() {
    long long a, b;
    std::cin >> a >> b;
    while (b != 0) {
        long long r = a % b;
        a = b;
        b = r;
    }
    std::cout << a << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let v: Vec<u64> = input.split_whitespace().map(|t| t.parse().unwrap()).collect();
    println!("{}", gcd(v[0], v[1]));
}
""",
    go="""
package main

import "fmt"

func main() {
    var a, b int
    fmt.Scan(&a, &b)
    for b != 0 {
        a, b = b, a%b
    }
    fmt.Println(a)
}
""",
)


@_template(0.65)
def _t_gcd(rng: random.Random) -> Instance:
    lay = pair_layout(rng)
    g = rng.randint(2, 12)
    cases = [
        (g * rng.randint(2, 7), g * rng.randint(8, 15)),
        (rng.randint(1, 40), 0),
        (0, 0),
        (17, rng.choice([5, 6, 8, 10])),
        (g, g * rng.randint(2, 9)),
        (1000000, 999999),
    ]

    def truth(s: str) -> str:
        a, b = numbers(s)
        return f"{math.gcd(a, b)}\n"

    return Instance(
        task=f"reads two non-negative integers {lay.a} and {lay.b} and prints their "
        "greatest common divisor",
        input_format=f"{lay.text}; 0 <= {lay.a}, {lay.b} <= 1000000.",
        output_format="one line with the greatest common divisor. The gcd of n and 0 is n, "
        "and the gcd of 0 and 0 is 0.",
        inputs=[lay.render(a, b) for a, b in cases],
        truth=truth,
        sources=_GCD.fill(),
        key=lay.key,
    )


_FIBONACCI = Refs(
    cpp="""
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    long long a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        long long next = a + b;
        a = b;
        b = next;
    }
    std::cout << a << "\\n";
    return 0;
}
""",
    rust="""
fn main() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let n: usize = line.trim().parse().unwrap();
    let mut fib: Vec<u64> = vec![0, 1];
    while fib.len() <= n {
        let k = fib.len();
        fib.push(fib[k - 1] + fib[k - 2]);
    }
    println!("{}", fib[n]);
}
""",
    go="""
package main

import "fmt"

func main() {
    var n int
    fmt.Scan(&n)
    a, b := 0, 1
    for i := 0; i < n; i++ {
        a, b = b, a+b
    }
    fmt.Println(a)
}
""",
)


@_template(0.70)
def _t_fibonacci(rng: random.Random) -> Instance:
    n = rng.choice(INT_NAMES)
    cases = [rng.randint(6, 15), 0, 1, 2, 40, rng.randint(20, 39)]

    def truth(s: str) -> str:
        a, b = 0, 1
        for _ in range(int(s)):
            a, b = b, a + b
        return f"{a}\n"

    return Instance(
        task=f"reads an integer {n} and prints the {n}-th Fibonacci number",
        input_format=f"one integer {n} (0 <= {n} <= 40).",
        output_format=f"one line with F({n}), where F(0) = 0, F(1) = 1 and "
        "F(i) = F(i-1) + F(i-2); so F(2) = 1, F(3) = 2, F(10) = 55.",
        inputs=[f"{v}\n" for v in cases],
        truth=truth,
        sources=_FIBONACCI.fill(),
        key={"names": [n]},
    )


_TO_BASE = Refs(
    cpp="""
#include <algorithm>
#include <iostream>
#include <string>

int main() {
    long long n;
    std::cin >> n;
    if (n == 0) {
        std::cout << "0\\n";
        return 0;
    }
    std::string digits;
    while (n > 0) {
        digits += static_cast<char>('0' + n % $k);
        n /= $k;
    }
    std::reverse(digits.begin(), digits.end());
    std::cout << digits << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let mut n: u64 = input.trim().parse().unwrap();
    let mut digits = Vec::new();
    loop {
        digits.push((n % $k).to_string());
        n /= $k;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    println!("{}", digits.concat());
}
""",
    go="""
package main

import (
    "fmt"
    "strconv"
)

func main() {
    var n int64
    fmt.Scan(&n)
    fmt.Println(strconv.FormatInt(n, $k))
}
""",
)


@_template(0.75)
def _t_to_base(rng: random.Random) -> Instance:
    k = rng.randint(2, 9)
    n = rng.choice(INT_NAMES)
    cases = [rng.randint(10, 500), 0, 1, k, k**3 - 1, 1000000]

    def truth(s: str) -> str:
        v, out = int(s), ""
        while True:
            v, d = divmod(v, k)
            out = str(d) + out
            if v == 0:
                return out + "\n"

    return Instance(
        task=f"reads a non-negative integer {n} and prints {n} written in base {k}",
        input_format=f"one integer {n} (0 <= {n} <= 1000000), given in base 10.",
        output_format=f"one line with the base-{k} digits of {n}, most significant first, "
        "with no prefix and no leading zeros (0 is printed as 0).",
        inputs=[f"{v}\n" for v in cases],
        truth=truth,
        sources=_TO_BASE.fill(k=k),
        key={"k": k},
    )


_CAESAR = Refs(
    cpp="""
#include <iostream>
#include <string>

int main() {
    std::string line;
    std::getline(std::cin, line);
    for (char &c : line) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>('a' + (c - 'a' + $k) % 26);
        } else if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>('A' + (c - 'A' + $k) % 26);
        }
    }
    std::cout << line << "\\n";
    return 0;
}
""",
    rust="""
use std::io::BufRead;

fn shift(c: char, base: u8) -> char {
    ((c as u8 - base + $k) % 26 + base) as char
}

fn main() {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
    let out: String = line
        .trim_end_matches(|c| c == '\\n' || c == '\\r')
        .chars()
        .map(|c| match c {
            'a'..='z' => shift(c, b'a'),
            'A'..='Z' => shift(c, b'A'),
            _ => c,
        })
        .collect();
    println!("{}", out);
}
""",
    go="""
package main

import (
    "bufio"
    "fmt"
    "os"
    "strings"
)

func main() {
    line, _ := bufio.NewReader(os.Stdin).ReadString('\\n')
    out := []byte(strings.TrimRight(line, "\\r\\n"))
    for i, c := range out {
        if c >= 'a' && c <= 'z' {
            out[i] = 'a' + (c-'a'+$k)%26
        } else if c >= 'A' && c <= 'Z' {
            out[i] = 'A' + (c-'A'+$k)%26
        }
    }
    fmt.Println(string(out))
}
""",
)


def _caesar(text: str, k: int) -> str:
    out = []
    for ch in text:
        for first in ("a", "A"):
            if first <= ch <= chr(ord(first) + 25):
                ch = chr((ord(ch) - ord(first) + k) % 26 + ord(first))
                break
        out.append(ch)
    return "".join(out)


@_template(0.85)
def _t_caesar(rng: random.Random) -> Instance:
    k = rng.randint(1, 25)
    w1, w2 = rng.sample(WORDS, 2)
    cases = [
        f"{w1} {w2}",
        "xyz",
        f"{w1.capitalize()}, {w2.upper()}!",
        "Zoo 42",
        "",
        "abcdefghijklmnopqrstuvwxyz",
    ]
    return Instance(
        task=f"reads one line of text and prints it with every letter shifted {k} places "
        "forward in the alphabet (a Caesar cipher)",
        input_format="one line of text: letters, digits, spaces and punctuation. It may be empty.",
        output_format=f"one line: each letter is replaced by the letter {k} places after it, "
        "wrapping around from z to a; upper-case letters stay upper case, lower-case letters "
        "stay lower case, and every other character is unchanged.",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: _caesar(s.rstrip("\n"), k) + "\n",
        sources=_CAESAR.fill(k=k),
        key={"k": k},
    )


_SORT_LIST = Refs(
    cpp="""
#include <algorithm>
#include <functional>
#include <iostream>
#include <vector>

int main() {
    std::size_t n;
    std::cin >> n;
    std::vector<int> v(n);
    for (std::size_t i = 0; i < n; i++) {
        std::cin >> v[i];
    }
    std::sort(v.begin(), v.end(), std::$cmp<int>());
    for (std::size_t i = 0; i < n; i++) {
        if (i > 0) {
            std::cout << ' ';
        }
        std::cout << v[i];
    }
    std::cout << '\\n';
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let mut tokens = input.split_whitespace().map(|t| t.parse::<i64>().unwrap());
    let n = tokens.next().unwrap() as usize;
    let mut v: Vec<i64> = tokens.take(n).collect();
    $rust_sort
    let words: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    println!("{}", words.join(" "));
}
""",
    go="""
package main

import (
    "bufio"
    "fmt"
    "os"
    "sort"
    "strconv"
    "strings"
)

func main() {
    in := bufio.NewReader(os.Stdin)
    var n int
    fmt.Fscan(in, &n)
    v := make([]int, n)
    for i := range v {
        fmt.Fscan(in, &v[i])
    }
    sort.Slice(v, func(i, j int) bool { return v[i] $go_op v[j] })
    parts := make([]string, n)
    for i, x := range v {
        parts[i] = strconv.Itoa(x)
    }
    fmt.Println(strings.Join(parts, " "))
}
""",
)


@_template(0.70)
def _t_sort_list(rng: random.Random) -> Instance:
    order = rng.choice(["ascending", "descending"])
    lay = list_layout(rng)
    cases = [
        ints(rng, rng.randint(5, 8)),
        [rng.randint(-99, 99)],
        [3, 1, 3, 2, 1],
        list(range(-2, 5)),
        ints(rng, 6, -1000, 1000),
        [],
    ]
    desc = order == "descending"

    def truth(s: str) -> str:
        return " ".join(map(str, sorted(list_of(s), reverse=desc))) + "\n"

    return Instance(
        task=f"reads {lay.n} integers and prints them sorted in {order} order",
        input_format=f"{lay.text(0)}; each integer is between -1000 and 1000.",
        output_format=f"one line with the {lay.n} integers in {order} order "
        f"({'largest' if desc else 'smallest'} first), separated by single spaces; duplicates "
        f"are kept. When {lay.n} is 0, print an empty line.",
        inputs=[lay.render(xs) for xs in cases],
        truth=truth,
        sources=_SORT_LIST.fill(
            cmp="greater" if desc else "less",
            rust_sort="v.sort_by(|a, b| b.cmp(a));" if desc else "v.sort();",
            go_op=">" if desc else "<",
        ),
        key={"order": order, **lay.key},
    )


_REVERSE_WORDS = Refs(
    cpp="""
#include <iostream>
#include <string>
#include <vector>

int main() {
    std::vector<std::string> words;
    std::string w;
    while (std::cin >> w) {
        words.push_back(w);
    }
    for (std::size_t i = words.size(); i > 0; i--) {
        std::cout << words[i - 1];
        if (i > 1) {
            std::cout << "$sep";
        }
    }
    std::cout << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let words: Vec<&str> = input.split_whitespace().rev().collect();
    println!("{}", words.join("$sep"));
}
""",
    go="""
package main

import (
    "bufio"
    "fmt"
    "os"
    "strings"
)

func main() {
    line, _ := bufio.NewReader(os.Stdin).ReadString('\\n')
    words := strings.Fields(line)
    for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
        words[i], words[j] = words[j], words[i]
    }
    fmt.Println(strings.Join(words, "$sep"))
}
""",
)
_SEPARATORS = {
    " ": "single spaces",
    ",": "commas (no spaces)",
    ", ": "a comma and a space",
    "-": "hyphens (-)",
    " | ": 'the three characters " | " (space, bar, space)',
    "/": "slashes (/)",
    ";": "semicolons (no spaces)",
    "+": "plus signs (+)",
}


@_template(0.75)
def _t_reverse_words(rng: random.Random) -> Instance:
    sep = rng.choice(list(_SEPARATORS))
    w1, w2 = rng.sample(WORDS, 2)
    cases = [
        " ".join(rng.sample(WORDS, rng.randint(3, 5))),
        rng.choice(WORDS),
        f"{w1} {w2}",
        f"{w1} {w2} {w1}",
        " ".join(rng.sample(WORDS, 8)),
    ]
    return Instance(
        task="reads a line of words and prints the words in reverse order",
        input_format="one line of lowercase words separated by single spaces (at least one word).",
        output_format="one line with the same words, last word first, separated by "
        f"{_SEPARATORS[sep]}.",
        inputs=[f"{v}\n" for v in cases],
        truth=lambda s: sep.join(reversed(s.split())) + "\n",
        sources=_REVERSE_WORDS.fill(sep=sep),
        key={"sep": sep},
    )


_RUN_LENGTH = Refs(
    cpp="""
#include <iostream>
#include <string>

int main() {
    std::string s;
    std::cin >> s;
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t j = i;
        while (j < s.size() && s[j] == s[i]) {
            j++;
        }
        $cpp_emit
        i = j;
    }
    std::cout << out << "\\n";
    return 0;
}
""",
    rust="""
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let chars: Vec<char> = input.trim().chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        $rust_emit
        i = j;
    }
    println!("{}", out);
}
""",
    go="""
package main

import (
    "fmt"
    "strings"
)

func main() {
    var s string
    fmt.Scan(&s)
    var b strings.Builder
    for i := 0; i < len(s); {
        j := i
        for j < len(s) && s[j] == s[i] {
            j++
        }
        $go_emit
        i = j
    }
    fmt.Println(b.String())
}
""",
)
_RLE_EMIT = {
    # count_first: (cpp, rust, go)
    False: (
        "out += s[i];\n        out += std::to_string(j - i);",
        "out.push(chars[i]);\n        out.push_str(&(j - i).to_string());",
        'fmt.Fprintf(&b, "%c%d", s[i], j-i)',
    ),
    True: (
        "out += std::to_string(j - i);\n        out += s[i];",
        "out.push_str(&(j - i).to_string());\n        out.push(chars[i]);",
        'fmt.Fprintf(&b, "%d%c", j-i, s[i])',
    ),
}


@_template(0.85)
def _t_run_length(rng: random.Random) -> Instance:
    count_first = rng.random() < 0.5
    s = rng.choice(WORD_NAMES)
    letters = rng.sample("abcdefghijklmnopqrstuvwxyz", 4)
    runs = [(c, rng.randint(1, 4)) for c in letters]
    cases = [
        "".join(c * n for c, n in runs),
        rng.choice("xyz"),
        letters[0] * rng.randint(5, 9),
        "abc",
        letters[1] * 12 + letters[2],
        "aabbaa",
    ]

    def truth(text: str) -> str:
        out, word, i = [], text.strip(), 0
        while i < len(word):
            j = i
            while j < len(word) and word[j] == word[i]:
                j += 1
            out.append(f"{j - i}{word[i]}" if count_first else f"{word[i]}{j - i}")
            i = j
        return "".join(out) + "\n"

    example = "3a2b1c" if count_first else "a3b2c1"
    cpp, rust, go = _RLE_EMIT[count_first]
    return Instance(
        task=f"reads a word {s} and prints its run-length encoding",
        input_format=f"one line with the word {s}: 1 to 30 lowercase letters.",
        output_format="one line. Split the word into runs of equal consecutive letters and write "
        + (
            "each run as its length followed by the letter"
            if count_first
            else "each run as the letter followed by its length"
        )
        + f", even when the length is 1; for example aaabbc becomes {example}.",
        inputs=[f"{v}\n" for v in cases],
        truth=truth,
        sources=_RUN_LENGTH.fill(cpp_emit=cpp, rust_emit=rust, go_emit=go),
        key={"count_first": count_first, "names": [s]},
    )
