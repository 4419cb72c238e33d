using BirbalAI.Ml.WatchedWords;

namespace BirbalAI.Ml.Tests.WatchedWords;

public sealed class WatchedWordCsvTests
{
    [Fact]
    public void Export_then_import_gives_back_the_same_entries()
    {
        WatchedWord[] entries =
        [
            new(Guid.NewGuid(), "kill", "word", "block", null, null, null),
            new(Guid.NewGuid(), "say \"hi\", friend", "word", "replace", "hello, \"you\"", null, "en", WholeWord: false),
            new(Guid.NewGuid(), @"sc[a4]m\w*", "regex", "add-category", null, "illicit", null),
            new(Guid.NewGuid(), " line\nbreak ", "word", "censor", null, null, "hi-Latn"),
        ];

        var (read, errors) = WatchedWordCsv.Read(WatchedWordCsv.Write(entries));

        Assert.Empty(errors);
        Assert.Equal(entries, read.Select(r => r.Entry));
        Assert.Equal([2, 3, 4, 5], read.Select(r => r.Row));
    }

    [Fact]
    public void Rows_without_an_id_are_new_entries()
    {
        var (read, errors) = WatchedWordCsv.Read("pattern,kind,action\nkill,word,block\nidiot,word,censor\n");

        Assert.Empty(errors);
        Assert.Equal(["kill", "idiot"], read.Select(r => r.Entry.Pattern));
        Assert.All(read, r => Assert.NotEqual(Guid.Empty, r.Entry.Id));
    }

    [Fact]
    public void Problems_are_reported_with_their_row_numbers()
    {
        var (_, errors) = WatchedWordCsv.Read("id,pattern,kind,action,replacement,category,language,whole_word\n,kill,word,block,,,,true\nnot-an-id,x,word,block,,,,true\n,y,word,block,,,,perhaps\n,z,word\n");

        Assert.Equal(["row 3: id: 'not-an-id' is not an id (leave it empty for a new entry)", "row 4: whole_word: 'perhaps' is neither true nor false", "row 5: 3 fields, the header has 8"], errors);
    }

    [Fact]
    public void A_header_without_the_required_columns_is_refused()
    {
        var (_, errors) = WatchedWordCsv.Read("word,what\nkill,block\n");

        Assert.Contains("row 1: the header has no 'pattern' column (expected id,pattern,kind,action,replacement,category,language,whole_word)", errors);
    }
}
