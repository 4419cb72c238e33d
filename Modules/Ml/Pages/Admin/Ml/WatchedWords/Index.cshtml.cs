using System.Text;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Moderation;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.WatchedWords;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Pages.Admin.Ml.WatchedWords;

/// <summary>Watched words: the list in force, add/edit/delete, a box to try a text, CSV export and import. Every change is a policy version.</summary>
[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(PolicyStore store, ModelCatalog catalog, IModerator moderator, IOptions<WatchedWordLimits> limits, IOptions<ModerationLimits> moderationLimits) : PageModel
{
    public sealed class EntryForm
    {
        public Guid? Id { get; set; }
        public string? Pattern { get; set; }
        public string Kind { get; set; } = WatchedWord.Kinds.Word;
        public string Action { get; set; } = WatchedWord.Actions.Block;
        public string? Replacement { get; set; }
        public string? Category { get; set; }
        public string? Language { get; set; }
        public bool WholeWord { get; set; } = true;

        public WatchedWord ToEntry() => new(Id ?? Guid.CreateVersion7(), Pattern ?? "", Kind, Action, NullIfEmpty(Replacement), NullIfEmpty(Category?.Trim()), NullIfEmpty(Language?.Trim()), WholeWord);

        static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
    }

    [BindProperty] public EntryForm Entry { get; set; } = new();
    [BindProperty] public int ExpectedVersion { get; set; }
    [BindProperty] public string? TryText { get; set; }

    public ModerationPolicy Current { get; private set; } = null!;
    public IReadOnlyList<string> Categories { get; private set; } = [];
    public WatchedWordLimits Limits => limits.Value;
    public string? Message { get; private set; }
    public ModerationVerdict? Verdict { get; private set; }

    public async Task OnGetAsync(Guid? edit, CancellationToken ct)
    {
        await LoadAsync(ct);
        ExpectedVersion = Current.Version;
        if (edit is { } id && Current.Words.Entries.FirstOrDefault(e => e.Id == id) is { } e)
            Entry = new EntryForm { Id = e.Id, Pattern = e.Pattern, Kind = e.Kind, Action = e.Action, Replacement = e.Replacement, Category = e.Category, Language = e.Language, WholeWord = e.WholeWord };
    }

    public async Task OnPostSaveAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var entry = Entry.ToEntry();
        var editing = Entry.Id is not null;
        await SaveAsync(list => editing ? WatchedWordsApi.Replace(list, entry.Id, entry) : [.. list, entry],
            $"{(editing ? "changed" : "added")} {entry.Kind} '{entry.Pattern}'", ct, (e, _) => e.Id == entry.Id ? "this entry" : $"entry '{e.Pattern}'");
    }

    public async Task OnPostDeleteAsync(Guid id, CancellationToken ct)
    {
        await LoadAsync(ct);
        var known = Current.Words.Entries.FirstOrDefault(e => e.Id == id);
        Entry = new EntryForm();
        await SaveAsync(list => WatchedWordsApi.Replace(list, id, null), $"removed {known?.Kind ?? "entry"} '{known?.Pattern ?? id.ToString()}'", ct);
    }

    public async Task OnPostTryAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        ModelState.Clear();
        ExpectedVersion = Current.Version;
        if (string.IsNullOrWhiteSpace(TryText))
        {
            this.Refuse("Write a text to try.");
            return;
        }
        if (RequestBody.CheckLimits([TryText], moderationLimits.Value, "text") is { } tooLong)
        {
            this.Refuse(tooLong.Message);
            return;
        }
        try { Verdict = await moderator.ModerateAsync(TryText, ct); }
        catch (Exception e) when (RequestBody.FromException(e) is { } known) { this.Refuse(known.Message, known.Status); }
    }

    public async Task<IActionResult> OnGetExportAsync(CancellationToken ct)
    {
        var policy = await store.CurrentAsync(ct);
        return File(Encoding.UTF8.GetBytes(WatchedWordCsv.Write(policy.Words.Entries)), "text/csv; charset=utf-8", $"watched-words-v{policy.Version}.csv");
    }

    public async Task OnPostImportAsync(IFormFile? file, CancellationToken ct)
    {
        await LoadAsync(ct);
        Entry = new EntryForm();
        if (file is null || file.Length == 0)
        {
            this.Refuse("Choose a CSV file to import.");
            return;
        }
        string csv;
        using (var reader = new StreamReader(file.OpenReadStream())) csv = await reader.ReadToEndAsync(ct);
        var (entries, errors) = WatchedWordCsv.Read(csv);
        if (errors.Count > 0)
        {
            foreach (var error in errors) ModelState.AddModelError("", error);
            ModelState.AddModelError("", "Nothing was imported.");
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        var rows = entries.Select(e => e.Row).ToList();
        await SaveAsync(_ => [.. entries.Select(e => e.Entry)], $"imported {entries.Count} entries from {Path.GetFileName(file.FileName)}", ct, (_, i) => $"row {rows[i]}",
            importing: true);
    }

    async Task SaveAsync(Func<IReadOnlyList<WatchedWord>, IReadOnlyList<WatchedWord>?> edit, string what, CancellationToken ct,
        Func<WatchedWord, int, string>? label = null, bool importing = false)
    {
        var result = await WatchedWordsApi.SaveAsync(edit, what, null, ExpectedVersion, User, store, catalog, ct, label);
        switch (result)
        {
            case PolicyStore.Saved saved:
                await LoadAsync(ct);
                Message = $"Saved as policy version {saved.Policy.Version} ({what}); every replica uses it now.";
                ExpectedVersion = saved.Policy.Version;
                Entry = new EntryForm();
                ModelState.Clear();
                break;
            case PolicyStore.Conflict conflict:
                this.Refuse($"Someone saved policy version {conflict.CurrentVersion} meanwhile. Your entry is still below; reload to see theirs.", StatusCodes.Status409Conflict);
                break;
            case PolicyStore.Missing:
                this.Refuse("That watched word is no longer in force (someone removed it); add it again if you need it.", StatusCodes.Status404NotFound);
                break;
            case PolicyStore.Invalid invalid:
                foreach (var error in invalid.Errors) ModelState.AddModelError("", error);
                if (importing) ModelState.AddModelError("", "Nothing was imported.");
                Response.StatusCode = StatusCodes.Status400BadRequest;
                break;
        }
    }

    async Task LoadAsync(CancellationToken ct)
    {
        Current = await store.CurrentAsync(ct);
        Categories = [.. PolicyCategories.Known(catalog)];
    }
}
