from halo_forge.verify.extract import extract_code, language_tags


def test_python_fence():
    text = "Here you go:\n```python\ndef f(x):\n    return x + 1\n```\nHope it helps."
    assert extract_code(text) == "def f(x):\n    return x + 1"


def test_py_alias_and_case():
    assert extract_code("```Py\nx = 1\n```") == "x = 1"


def test_prefers_matching_language_over_longer_other_block():
    text = (
        "```bash\npip install something-long --with --many --flags --here\n```\n"
        "```python\nx = 1\n```"
    )
    assert extract_code(text, "python") == "x = 1"


def test_prefers_longest_matching_block():
    text = "```python\ndef add(a, b):\n    return a + b\n```\nUsage:\n```python\nadd(1, 2)\n```"
    assert extract_code(text) == "def add(a, b):\n    return a + b"


def test_tie_goes_to_first_block():
    assert extract_code("```python\nx = 1\n```\n```python\ny = 2\n```") == "x = 1"


def test_untagged_block_when_no_language_match():
    text = "```\nint main() { return 0; }\n```"
    assert extract_code(text, "cpp") == "int main() { return 0; }"


def test_untagged_beats_output_block():
    text = "```\ncode = 1\n```\n```output\nlots of output text here, longer than the code\n```"
    assert extract_code(text) == "code = 1"


def test_other_language_block_beats_prose_tags():
    text = "```text\nsome long explanation that is not code at all\n```\n```js\nlet x=1;\n```"
    assert extract_code(text, "python") == "let x=1;"


def test_only_prose_block_still_returned():
    assert extract_code("```text\nhello\n```") == "hello"


def test_cpp_aliases():
    text = "```c++\nint a;\n```\n```python\nprint(1)\n```"
    assert extract_code(text, "cpp") == "int a;"
    assert extract_code(text, "c++") == "int a;"
    assert "cxx" in language_tags("cpp")


def test_unterminated_final_fence_runs_to_end():
    text = "Sure!\n```python\ndef f():\n    return 1\n"
    assert extract_code(text) == "def f():\n    return 1"


def test_unterminated_fence_after_complete_block_wins_if_longer():
    text = "```python\nx = 1\n```\n```python\ndef long_function():\n    return 42"
    assert extract_code(text) == "def long_function():\n    return 42"


def test_no_fence_returns_whole_text_keeping_first_indent():
    assert extract_code("\n\n    return x + 1\n  \n") == "    return x + 1"


def test_no_fence_plain_code():
    assert extract_code("def f():\n    pass\n") == "def f():\n    pass"


def test_empty_and_whitespace():
    assert extract_code("") == ""
    assert extract_code("   \n\t\n") == ""
    assert extract_code("```python\n```") == ""


def test_longer_closing_fence_and_tildes():
    assert extract_code("~~~python\nx = 2\n~~~") == "x = 2"
    assert extract_code("````python\nx = '```'\n````") == "x = '```'"


def test_indented_fence_content_is_dedented_by_fence_indent():
    text = "1. Step:\n   ```python\n   def f():\n       return 1\n   ```"
    assert extract_code(text) == "def f():\n    return 1"


def test_think_block_is_dropped():
    text = "<think>maybe ```python\nwrong = 1\n```</think>\n```python\nright = 2\n```"
    assert extract_code(text) == "right = 2"


def test_crlf_normalised():
    assert extract_code("```python\r\nx = 1\r\n```\r\n") == "x = 1"


def test_fence_info_with_attributes():
    assert extract_code("```python title='a.py'\nx = 3\n```") == "x = 3"
