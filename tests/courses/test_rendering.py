from courses.rendering import render_markdown


def test_it_renders_headings_with_a_table_of_contents():
    rendered = render_markdown("## First part\n\ntext\n\n### A detail\n\n## Second part\n")
    assert '<h2 id="first-part">First part</h2>' in rendered.html
    assert [entry[1] for entry in rendered.toc] == ["first-part", "a-detail", "second-part"]


def test_it_highlights_code_and_gives_every_block_a_copy_button():
    html = render_markdown("```yaml\nkind: Pod\n```\n\n```text\nplain\n```\n").html
    assert html.count('class="code-copy"') == 2
    assert '<span class="nt">kind</span>' in html  # Pygments tokens


def test_only_runnable_shell_blocks_get_a_run_button():
    html = render_markdown("```bash run\nkubectl get nodes\n```\n\n```bash\nls\n```\n"
                           "```yaml run\na: 1\n```\n").html
    assert html.count('class="code-run"') == 1
    assert 'class="codehilite runnable" data-lang="bash"' in html


def test_it_renders_tables_and_admonitions():
    html = render_markdown('| a | b |\n|---|---|\n| 1 | 2 |\n\n!!! tip "Remember"\n    body\n').html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<div class="admonition tip">' in html and "Remember" in html


def test_script_tags_are_removed_with_their_content():
    html = render_markdown("Hello <script>alert('owned')</script> world").html
    assert "<script" not in html and "alert" not in html


def test_event_handler_attributes_are_removed():
    html = render_markdown('<img src="x.png" onerror="alert(1)"> <a href="#" onclick="x()">a</a>').html
    assert "onerror" not in html and "onclick" not in html and "alert" not in html


def test_javascript_urls_are_removed():
    html = render_markdown("[click](javascript:alert(1)) <a href='javascript:alert(2)'>b</a>").html
    assert "javascript:" not in html


def test_markup_inside_code_blocks_is_shown_not_run():
    html = render_markdown("```html\n<script>alert(1)</script>\n```\n").html
    assert "<script>" not in html
    assert "&lt;" in html and "alert" in html


def test_ids_outside_headings_are_dropped():
    html = render_markdown('<div id="csrf">x</div>\n\n## Title\n').html
    assert 'id="csrf"' not in html and 'id="title"' in html


def test_iframes_styles_and_forms_are_removed():
    html = render_markdown('<iframe src="https://evil"></iframe><style>body{}</style>'
                           '<form action="/x"><input name="a"></form>').html
    for banned in ("<iframe", "<style", "<form", "<input"):
        assert banned not in html


def test_a_folded_details_block_renders_its_markdown_and_stays_folded():
    # What the Killercoda importer writes for a solution in a step without an exercise.
    html = render_markdown('<details markdown="1"><summary>Solution</summary>\n\n'
                           "Run **this**:\n\n```bash run\nkubectl get pods\n```\n\n</details>\n").html
    assert "<details>" in html and "<summary>Solution</summary>" in html
    assert "<strong>this</strong>" in html and 'class="code-run"' in html
    assert 'markdown="1"' not in html
