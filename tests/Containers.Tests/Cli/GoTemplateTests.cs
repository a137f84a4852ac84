using System.Text.Json;
using Containers.Cli;

namespace Containers.Tests.Cli;

/// <summary>
/// <c>--format</c> templates: each supported form prints what Docker's Go template prints for the same JSON, and each
/// form outside the subset is refused by name when parsed.
/// </summary>
public sealed class GoTemplateTests
{
    private const string Container = """
        {
          "Id": "web",
          "Args": ["-c", "echo hi"],
          "State": {"Status": "exited", "Running": false, "Pid": 0, "ExitCode": 3, "FinishedAt": "2026-01-02T03:04:05.5Z"},
          "HostConfig": {"LogConfig": {"Config": {"max-size": "10485760", "max-file": "3"}}},
          "Config": {
            "process": {"env": ["PATH=/bin", "A=1"], "args": ["sh"]},
            "annotations": {"org.example/role": "db", "b": "2", "a": "1"},
            "linux": {"resources": {"memory": {"limit": 1000000}}, "seccomp": null},
            "weights": [1.5, -2, 1e3],
            "mixed": [null, true, {"z": 1, "y": [2]}, []],
            "empty": {}
          }
        }
        """;

    private static string Run(string template, string json = Container)
    {
        using var document = JsonDocument.Parse(json);
        return GoTemplate.Parse(template).Execute(document.RootElement);
    }

    [Theory]
    [InlineData("{{.Id}}", "web")]
    [InlineData("{{.State.Status}}", "exited")]
    [InlineData("{{ .State.Status }}", "exited")]
    [InlineData("{{.Id}} {{.State.Pid}} exit={{.State.ExitCode}}", "web 0 exit=3")]
    [InlineData("no actions at all", "no actions at all")]
    [InlineData("a }} b", "a }} b")]
    [InlineData("", "")]
    public void Fields_and_text_print_as_Go_prints_them(string template, string expected) => Assert.Equal(expected, Run(template));

    [Theory]
    [InlineData("{{.State.Running}}", "false")]
    [InlineData("{{.Config.linux.resources.memory.limit}}", "1000000")]
    [InlineData("{{.Config.weights}}", "[1.5 -2 1e3]")]
    [InlineData("{{.Config.process.env}}", "[PATH=/bin A=1]")]
    [InlineData("{{.Args}}", "[-c echo hi]")]
    [InlineData("{{.Config.annotations}}", "map[a:1 b:2 org.example/role:db]")]
    [InlineData("{{.Config.mixed}}", "[<nil> true map[y:[2] z:1] []]")]
    [InlineData("{{.Config.empty}}", "map[]")]
    [InlineData("{{.Config.linux.seccomp}}", "<no value>")]
    public void Numbers_bools_arrays_objects_and_null_print_as_Go_prints_decoded_json(string template, string expected) =>
        Assert.Equal(expected, Run(template));

    [Fact]
    public void Dot_alone_prints_the_whole_document()
    {
        Assert.Equal("map[a:1 b:[x <nil>]]", Run("{{.}}", """{"b": ["x", null], "a": 1}"""));
        Assert.Equal("plain", Run("{{.}}", "\"plain\""));
    }

    [Fact]
    public void Map_keys_sort_by_code_point_as_Gos_byte_order_does()
    {
        // UTF-16 order puts U+FF21 after U+1F600's surrogates; UTF-8 and code point order put it before.
        Assert.Equal("map[B:1 a:2 Ａ:3 😀:4]", Run("{{.}}", """{"😀": 4, "Ａ": 3, "a": 2, "B": 1}"""));
    }

    [Theory]
    [InlineData("{{json .State}}", """{"Status":"exited","Running":false,"Pid":0,"ExitCode":3,"FinishedAt":"2026-01-02T03:04:05.5Z"}""")]
    [InlineData("{{json .Args}}", """["-c","echo hi"]""")]
    [InlineData("{{json .Id}}", "\"web\"")]
    [InlineData("{{json .Config.linux.seccomp}}", "null")]
    [InlineData("{{json \"<&>\"}}", "\"<&>\"")]
    [InlineData("{{json 7}}", "7")]
    public void Json_prints_a_subtree_as_compact_json_without_html_escaping(string template, string expected) =>
        Assert.Equal(expected, Run(template));

    [Fact]
    public void Json_of_the_whole_document_is_one_line_that_parses_back()
    {
        var line = Run("{{json .}}");

        Assert.DoesNotContain('\n', line);
        using var document = JsonDocument.Parse(line);
        Assert.Equal("db", document.RootElement.GetProperty("Config").GetProperty("annotations").GetProperty("org.example/role").GetString());
    }

    [Theory]
    [InlineData("{{index .Config.annotations \"org.example/role\"}}", "db")]
    [InlineData("{{index .HostConfig.LogConfig.Config `max-size`}}", "10485760")]
    [InlineData("{{index .Config.annotations \"nope\"}}", "<no value>")]
    [InlineData("{{index .Args 1}}", "echo hi")]
    [InlineData("{{index .Config.process \"env\" 0}}", "PATH=/bin")]
    [InlineData("{{index .Config.mixed 2 \"y\" 0}}", "2")]
    [InlineData("{{index .Id 0}}", "119")]
    [InlineData("{{index .State}}", "map[ExitCode:3 FinishedAt:2026-01-02T03:04:05.5Z Pid:0 Running:false Status:exited]")]
    [InlineData("{{index .Config.annotations .Id}}", "<no value>")]
    public void Index_looks_up_object_keys_and_array_or_string_positions(string template, string expected) =>
        Assert.Equal(expected, Run(template));

    [Theory]
    [InlineData("{{\"a\\tb\\n\\\"c\\\" \\u00e9 \\U0001F600 \\x41 \\101\"}}", "a\tb\n\"c\" é 😀 A A")]
    [InlineData("{{`raw \\n`}}", "raw \\n")]
    [InlineData("{{-3}}", "-3")]
    [InlineData("{{42}}", "42")]
    public void Quoted_strings_raw_strings_and_integers_are_literals(string template, string expected) =>
        Assert.Equal(expected, Run(template));

    [Theory]
    [InlineData("a  {{- .Id}}", "aweb")]
    [InlineData("{{.Id -}} \n\t b", "webb")]
    [InlineData("x \n {{- .Id -}} \n y", "xweby")]
    public void Trim_markers_drop_the_white_space_beside_an_action(string template, string expected) =>
        Assert.Equal(expected, Run(template));

    [Theory]
    [InlineData("{{.Id | printf \"%s\"}}", "pipelines ('|') are not supported")]
    [InlineData("{{range .Args}}{{.}}{{end}}", "'range' is not supported")]
    [InlineData("{{if .State.Running}}up{{end}}", "'if' is not supported")]
    [InlineData("{{with .State}}{{.Pid}}{{end}}", "'with' is not supported")]
    [InlineData("{{end}}", "'end' is not supported")]
    [InlineData("{{template \"x\"}}", "'template' is not supported")]
    [InlineData("{{true}}", "'true' is not supported")]
    [InlineData("{{$x := .Id}}", "variables ('$') are not supported")]
    [InlineData("{{$}}", "variables ('$') are not supported")]
    [InlineData("{{(.Id)}}", "parentheses are not supported")]
    [InlineData("{{json (index .Args 0)}}", "parentheses are not supported")]
    [InlineData("{{/* note */}}", "comments are not supported")]
    [InlineData("{{'a'}}", "character constants are not supported")]
    [InlineData("{{upper .Id}}", "the function 'upper' is not supported: only json and index are")]
    [InlineData("{{join .Args \",\"}}", "the function 'join' is not supported")]
    [InlineData("{{len .Args}}", "the function 'len' is not supported")]
    [InlineData("{{printf \"%s\" .Id}}", "the function 'printf' is not supported")]
    [InlineData("{{json .Id .Args}}", "json takes one argument, not 2")]
    [InlineData("{{json}}", "json takes one argument, not 0")]
    [InlineData("{{index}}", "index takes the item to index and its keys")]
    [InlineData("{{json index}}", "'index' as an argument is not supported")]
    [InlineData("{{.State .Id}}", "a field or literal takes no arguments")]
    [InlineData("{{}}", "the action is empty")]
    [InlineData("{{.Id", "the action is not closed with }}")]
    [InlineData("{{.Id}", "the action is not closed with }}")]
    [InlineData("{{\"open}}", "the quoted string is not closed")]
    [InlineData("{{`open}}", "the raw string is not closed")]
    [InlineData("{{\"\\q\"}}", "the escape \\q is not one of Go's")]
    [InlineData("{{\"\\xe9\"}}", "a byte escape above \\x7f is not supported")]
    [InlineData("{{\"\\uD800\"}}", "the escape for D800 is not a Unicode character")]
    [InlineData("{{\"\\u12\"}}", "an escape needs 4 hexadecimal digits")]
    [InlineData("{{1.5}}", "the number 1.5 is not supported: only decimal integers are")]
    [InlineData("{{0x1F}}", "the number 0x1F is not supported")]
    [InlineData("x {{-.Id}}", "the number -.Id is not supported")]
    [InlineData("{{.5}}", "numbers other than decimal integers are not supported")]
    [InlineData("{{.Id\"x\"}}", "'\"x\"' must be separated from what comes before it by a space")]
    [InlineData("{{.Id.}}", "'.' must be separated")]
    [InlineData("{{x := 1}}", "assignments are not supported")]
    [InlineData("{{.Id, .Args}}", "',' is not supported")]
    public void What_the_subset_lacks_is_refused_when_parsed_naming_the_part(string template, string problem)
    {
        var refused = Assert.Throws<GoTemplateException>(() => GoTemplate.Parse(template));

        Assert.Contains(problem, refused.Message, StringComparison.Ordinal);
        Assert.StartsWith("template: {{", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{.Nope}}", "the document has no field Nope")]
    [InlineData("{{.State.Nope}}", ".State has no field Nope")]
    [InlineData("{{.Id.Length}}", ".Id is a string: it has no field Length")]
    [InlineData("{{.Args.First}}", ".Args is an array: it has no field First")]
    [InlineData("{{.Config.linux.seccomp.mode}}", ".Config.linux.seccomp is null: it has no field mode")]
    [InlineData("{{index .Args 2}}", "index out of range: 2")]
    [InlineData("{{index .Args -1}}", "index out of range: -1")]
    [InlineData("{{index .Args \"0\"}}", "an array or string is indexed by an integer, not a string")]
    [InlineData("{{index .Config.annotations 0}}", "an object's key must be a string, not a number")]
    [InlineData("{{index .State.Pid 0}}", "can't index item of type a number")]
    [InlineData("{{index .Config.annotations \"nope\" \"x\"}}", "index of untyped nil")]
    [InlineData("{{index .Config.linux.seccomp \"x\"}}", "index of untyped nil")]
    public void A_path_the_document_lacks_fails_instead_of_printing_a_blank(string template, string problem)
    {
        var parsed = GoTemplate.Parse(template);
        using var document = JsonDocument.Parse(Container);

        var failed = Assert.Throws<GoTemplateException>(() => parsed.Execute(document.RootElement));

        Assert.Contains(problem, failed.Message, StringComparison.Ordinal);
        Assert.Contains(template, failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parsed_template_runs_on_each_document_in_turn()
    {
        var template = GoTemplate.Parse("{{.Id}}={{.State.Status}}");
        using var first = JsonDocument.Parse("""{"Id": "a", "State": {"Status": "running"}}""");
        using var second = JsonDocument.Parse("""{"Id": "b", "State": {"Status": "exited"}}""");

        Assert.Equal("a=running", template.Execute(first.RootElement));
        Assert.Equal("b=exited", template.Execute(second.RootElement));
    }

    [Theory]
    [InlineData("{{.Config.annotations.missing}}", "<no value>")]
    [InlineData("{{.Config.annotations.a}}", "1")]
    [InlineData("{{json .Config.annotations.missing}}", "null")]
    public void A_key_missing_from_an_object_named_as_a_Go_map_prints_no_value_as_Go_prints_a_maps(string template, string expected)
    {
        using var document = JsonDocument.Parse(Container);

        Assert.Equal(expected, GoTemplate.Parse(template).Execute(document.RootElement, new HashSet<string> { ".Config.annotations" }));
    }

    [Theory]
    [InlineData("{{.Config.annotations.missing.deeper}}", ".Config.annotations has no field missing")]
    [InlineData("{{.Config.process.missing}}", ".Config.process has no field missing")]
    public void Only_the_last_step_into_a_named_map_may_be_missing(string template, string problem)
    {
        using var document = JsonDocument.Parse(Container);

        var failed = Assert.Throws<GoTemplateException>(() => GoTemplate.Parse(template).Execute(document.RootElement, new HashSet<string> { ".Config.annotations" }));

        Assert.Contains(problem, failed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{json .}}", true)]
    [InlineData("{{ json . }}", true)]
    [InlineData("{{json .}} ", false)]
    [InlineData("{{json .State}}", false)]
    [InlineData("{{.}}", false)]
    public void Json_of_dot_alone_is_recognised(string template, bool expected) => Assert.Equal(expected, GoTemplate.Parse(template).IsJsonOfDot);

    [Theory]
    [InlineData("{{.Size}}", true)]
    [InlineData("{{.Names}} {{ .Size }}", true)]
    [InlineData("{{json .Size}}", true)]
    [InlineData("{{index .Size 0}}", true)]
    [InlineData("{{.Names}}", false)]
    [InlineData("{{.State.Size}}", false)]
    [InlineData("Size {{\"Size\"}}", false)]
    public void Names_tells_whether_an_action_names_a_top_level_field(string template, bool expected) =>
        Assert.Equal(expected, GoTemplate.Parse(template).Names("Size"));
}
