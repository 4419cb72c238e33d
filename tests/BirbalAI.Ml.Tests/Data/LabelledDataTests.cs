using BirbalAI.Ml.Data;

namespace BirbalAI.Ml.Tests.Data;

public sealed class LabelledDataTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("birbal-data-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string Write(string name, string content)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void JSONL_rows_with_labels_and_benign_rows_are_read()
    {
        var path = Write("data.jsonl", """
            {"text": "you clown", "labels": ["harassment"]}

            {"text": "nice day", "labels": [], "group": "g1", "language": "en"}
            """);

        var rows = LabelledData.Read(path, Categories.Default);

        Assert.Equal([new LabelledText("you clown", ["harassment"]).Text, "nice day"], rows.Select(r => r.Text));
        Assert.Equal(["harassment"], rows[0].Labels);
        Assert.Empty(rows[1].Labels);
        Assert.Equal(("g1", "en"), (rows[1].Group, rows[1].Language));
    }

    [Fact]
    public void Every_bad_JSONL_row_is_reported_by_line_number()
    {
        var path = Write("bad.jsonl", """
            {"text": "fine", "labels": []}
            {"text": "", "labels": []}
            not json
            {"text": "x", "labels": ["spam"]}
            {"text": "y"}
            [1, 2]
            """);

        var error = Assert.Throws<DataFileException>(() => LabelledData.Read(path, Categories.Default));

        Assert.StartsWith("line 3: not valid JSON", error.Errors[1]);
        Assert.Equal(
        [
            "line 2: \"text\" must be a non-empty string",
            error.Errors[1],
            "line 4: unknown category \"spam\"",
            "line 5: \"labels\" must be a list (empty for benign)",
            "line 6: not a JSON object",
        ], error.Errors);
    }

    [Fact]
    public void CSV_has_a_text_column_and_a_0_or_1_column_per_category()
    {
        var path = Write("data.csv", "text,hate,violence\n\"a, quoted \"\"text\"\"\",1,0\nplain,0,1\n\"two\nlines\",0,0\n");

        var rows = LabelledData.Read(path, Categories.Default);

        Assert.Equal(["a, quoted \"text\"", "plain", "two\nlines"], rows.Select(r => r.Text));
        Assert.Equal(["hate"], rows[0].Labels);
        Assert.Equal(["violence"], rows[1].Labels);
        Assert.Empty(rows[2].Labels);
    }

    [Fact]
    public void Bad_CSV_rows_and_columns_are_reported_by_line_number()
    {
        var path = Write("bad.csv", "text,hate,spam\nok,1,0\nshort,1\n,0,0\nbad,2,0\n");

        var error = Assert.Throws<DataFileException>(() => LabelledData.Read(path, Categories.Default));

        Assert.Equal(
        [
            "line 1: unknown category column \"spam\"",
            "line 3: 2 cells, the header has 3",
            "line 4: empty text",
            "line 5: column \"hate\" must be 0 or 1, not \"2\"",
        ], error.Errors);
    }

    [Fact]
    public void A_split_keeps_each_group_on_one_side_and_is_the_same_for_a_seed()
    {
        var rows = Enumerable.Range(0, 400).Select(i => new LabelledText($"text {i}", [], $"template {i % 40}")).ToList();

        var (train, test) = LabelledData.Split(rows, 0.2, seed: 5);
        var again = LabelledData.Split(rows, 0.2, seed: 5);

        Assert.Empty(train.Select(r => r.Group).Intersect(test.Select(r => r.Group)));
        Assert.Equal(80, test.Count);                                // 8 of 40 templates
        Assert.Equal(test.Select(r => r.Text), again.Test.Select(r => r.Text));
    }
}
