"""Killercoda markers to k8s-lab Markdown (courses.importers.killercoda.markers), one marker at a time."""
from courses.course_files import split_code_blocks
from courses.importers.killercoda.markers import INTERRUPT_COMMENT, convert
from courses.rendering import render_markdown


def blocks(text):
    return [(b.lang, b.flags, b.text) for b in split_code_blocks(text)]


def test_it_turns_an_exec_block_into_a_runnable_bash_block():
    result = convert("Run:\n\n```plain\nkubectl get nodes\nkubectl get pods\n```{{exec}}\n\nDone.\n")
    assert result.text == ("Run:\n\n```bash run\nkubectl get nodes\nkubectl get pods\n```\n\n"
                           "Done.\n")
    assert result.commands == ["kubectl get nodes\nkubectl get pods"]
    assert result.warnings == []
    assert 'class="code-run"' in render_markdown(result.text).html


def test_it_accepts_the_marker_on_the_line_after_the_fence_and_with_spaces():
    result = convert("```\nls -l\n```\n{{ exec }}\n\n~~~~sh\npwd\n~~~~{{execute}}\n")
    assert blocks(result.text) == [("bash", ("run",), "ls -l\n"), ("bash", ("run",), "pwd\n")]
    assert "{{" not in result.text
    assert result.commands == ["ls -l", "pwd"]


def test_it_says_in_the_block_that_exec_interrupt_presses_ctrl_c_first():
    result = convert("```\nkubectl get pods\n```{{exec interrupt}}\n")
    assert result.text == f"```bash run\n{INTERRUPT_COMMENT}\nkubectl get pods\n```\n"
    assert result.interrupts == 1
    assert result.commands == ["kubectl get pods"]  # the comment is not part of the solution


def test_it_makes_a_copy_block_a_plain_block():
    result = convert("```yaml\nkind: Pod\n```{{copy}}\n\n```plain\nhello\n```{{copy}}\n")
    assert result.text == "```yaml\nkind: Pod\n```\n\n```text\nhello\n```\n"
    assert result.commands == []


def test_it_keeps_inline_exec_code_inline_and_adds_a_runnable_block_after_the_paragraph():
    source = ("Start it with `kubectl run web --image=nginx`{{exec}} and look\n"
              "with `kubectl get pods`{{exec}}.\n\nNext paragraph.\n")
    result = convert(source)
    assert result.text == ("Start it with `kubectl run web --image=nginx` and look\n"
                           "with `kubectl get pods`.\n\n"
                           "```bash run\nkubectl run web --image=nginx\nkubectl get pods\n```\n\n"
                           "Next paragraph.\n")
    assert result.commands == ["kubectl run web --image=nginx", "kubectl get pods"]


def test_it_puts_the_block_of_an_inline_exec_in_a_list_after_its_item_at_column_0():
    # Python-Markdown sees a fence only at the start of a line, so the list is split around it.
    result = convert("1. First `ls`{{exec}}\n2. Then `pwd`{{exec interrupt}}\n")
    assert result.text == ("1. First `ls`\n\n```bash run\nls\n```\n\n"
                           f"2. Then `pwd`\n\n```bash run\n{INTERRUPT_COMMENT}\npwd\n```\n")
    html = render_markdown(result.text).html
    assert html.count("<li>") == 2 and html.count('class="code-run"') == 2


def test_it_makes_inline_copy_and_no_copy_plain_inline_code():
    result = convert("Name `web`{{copy}}, image `nginx`{{}}, plain `x`.\n")
    assert result.text == "Name `web`, image `nginx`, plain `x`.\n"
    assert result.commands == []


def test_it_leaves_template_braces_in_code_and_prose_alone():
    source = ("```\nkubectl get ns -o go-template='{{range .items}}{{.metadata.name}}{{end}}'\n"
              "```\n\nUse `{{ .Values.image }}` or {{ .Values.tag }} in the chart.\n")
    result = convert(source)
    assert result.text == source
    assert result.warnings == []


def test_it_turns_traffic_links_into_placeholder_links_and_removes_unknown_markers():
    result = convert("Open [the app]({{TRAFFIC_HOST1_8080}}/ui), port {{TRAFFIC_HOST1_80}}, "
                     "then {{open}} the file {{whatever}}.\n")
    assert result.text == (
        'Open [the app](#lab-app-port-8080/ui){: .lab-app-port title="The lab machine\'s port '
        '8080/ui: the lab cannot open it in the browser yet"}, port [port 80 of the lab machine]'
        '(#lab-app-port-80){: .lab-app-port title="The lab machine\'s port 80: the lab cannot '
        'open it in the browser yet"}, then the file.\n')
    assert "{{" not in result.text
    assert len(result.warnings) == 4
    assert any("TRAFFIC_HOST1_8080" in w and "placeholder" in w for w in result.warnings)
    assert any("'{{whatever}}'" in w and "removed" in w for w in result.warnings)
    html = render_markdown(result.text).html
    # The lab's app view will find the links by their class; until then they go nowhere.
    assert '<a class="lab-app-port" href="#lab-app-port-8080/ui" title="The lab machine' in html
    assert 'href="#lab-app-port-80"' in html and "{:" not in html


def test_a_traffic_link_to_another_host_says_which():
    result = convert("[node](<{{TRAFFIC_HOST2_30080}}>)\n")
    assert result.text.startswith("[node](#lab-app-port-30080){: .lab-app-port title=\"The lab "
                                  "machine's port 30080 (Killercoda's host2): ")


def test_it_shows_a_yaml_block_that_does_not_parse_as_text():
    result = convert("```yaml\nname: [broken\n```\n\n```yaml\nname: ok\n```\n")
    assert blocks(result.text) == [("text", (), "name: [broken\n"), ("yaml", (), "name: ok\n")]
    assert result.warnings == ["a YAML code block (line 1 of the text) does not parse, so it is "
                               "shown as plain text"]


def test_it_closes_a_block_that_is_never_closed():
    result = convert("```\nls\n")
    assert result.text == "```\nls\n```\n"
    assert "never closed" in result.warnings[0]


def test_it_warns_that_another_tab_or_host_is_the_one_terminal():
    result = convert("```\nls\n```{{execute T2}}\n\n`hostname`{{exec host2}}\n")
    assert blocks(result.text)[0] == ("bash", ("run",), "ls\n")
    assert any("(t2)" in w for w in result.warnings)
    assert any("(host2)" in w for w in result.warnings)


def test_it_moves_an_indented_fence_to_column_0_so_that_it_renders_as_a_block():
    result = convert("- Apply it:\n\n  ```\n  kubectl apply -f pod.yaml\n    --dry-run=client\n"
                     "  ```{{exec}}\n")
    assert result.text == ("- Apply it:\n\n```bash run\nkubectl apply -f pod.yaml\n"
                           "  --dry-run=client\n```\n")
    assert result.commands == ["kubectl apply -f pod.yaml\n  --dry-run=client"]
    assert 'class="code-run"' in render_markdown(result.text).html


def test_it_warns_about_images_the_lab_does_not_serve():
    result = convert("![a](./img/a.png) ![b](https://example.com/b.png) <img src='c.png'>\n")
    assert [w.split("'")[1] for w in result.warnings] == ["./img/a.png", "c.png"]


def test_it_turns_a_traffic_selector_link_into_a_placeholder_link():
    result = convert("[ACCESS PORTS]({{TRAFFIC_SELECTOR}}) or {{TRAFFIC_SELECTOR}}\n")
    note = "The lab machine's ports: the lab cannot open them in the browser yet"
    assert result.text == (f'[ACCESS PORTS](#lab-app-ports){{: .lab-app-port title="{note}"}} or '
                           f'[ports of the lab machine](#lab-app-ports){{: .lab-app-port '
                           f'title="{note}"}}\n')


def test_it_makes_the_paragraph_before_a_closing_fence_without_opening_the_block():
    source = ("```bash\nkubectl create sa bot\n```{{exec}}\n\ncat <<EOF | kubectl apply -f -\n"
              "kind: Pod\nspec:\n  containers:\n  - name: a\nEOF\n```{{exec}}\n\n```{{copy}}\n")
    result = convert(source)
    manifest = "cat <<EOF | kubectl apply -f -\nkind: Pod\nspec:\n  containers:\n  - name: a\nEOF"
    assert result.text == ("```bash run\nkubectl create sa bot\n```\n\n```bash run\n"
                           f"{manifest}\n```\n")
    assert result.commands == ["kubectl create sa bot", manifest]
    assert result.warnings == [
        "a closing fence '```{{exec}}' has no opening fence; the paragraph before it became the "
        "code block",
        "a closing fence '```{{copy}}' has no opening fence; it was removed"]


def test_it_drops_text_after_the_marker_of_a_closing_fence():
    result = convert("```bash\nkubectl get pods\n```{{exec}}|skip{{sandbox}}\n\nAfter.\n")
    assert result.text == "```bash run\nkubectl get pods\n```\n\nAfter.\n"
    assert result.warnings == ["the text after the closing fence '```{{exec}}|skip{{sandbox}}' was "
                               "dropped"]
