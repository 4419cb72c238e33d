using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Rescoring;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Pages.Admin.Ml.Policy;

/// <summary>
/// The policy in force and its history (Admins); draft policies: saved from the same form without being in force, opened again to
/// change them (<c>?draft=id</c>), previewed (an impact preview: a re-scoring run over recent content that is never applied),
/// published as the next version, or deleted.
/// </summary>
[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(PolicyStore store, PolicyDrafts drafts, RescoringRuns runs, ModelRegistry registry, ModelCatalog catalog,
    IOptions<RescoringOptions> rescoring) : PageModel
{
    public sealed class Row
    {
        public string Category { get; set; } = "";
        public float Review { get; set; }
        public float Reject { get; set; }
    }

    [BindProperty] public List<Row> Rows { get; set; } = [];
    [BindProperty] public string? Note { get; set; }
    [BindProperty] public int ExpectedVersion { get; set; }
    /// <summary>The draft the form edits (null: a new one when saved as a draft).</summary>
    [BindProperty(SupportsGet = true, Name = "draft")] public Guid? DraftId { get; set; }
    [BindProperty] public string? DraftName { get; set; }
    [BindProperty] public string? PreviewVersion { get; set; }
    [BindProperty] public int? PreviewDays { get; set; }

    public ModerationPolicy Current { get; private set; } = null!;
    public IReadOnlyList<ModerationPolicy> History { get; private set; } = [];
    public IReadOnlyList<PolicyDraft> Drafts { get; private set; } = [];
    public IReadOnlyList<ModelVersion> Versions { get; private set; } = [];
    public int? Production { get; private set; }
    public PolicyDraft? Editing { get; private set; }
    public RescoringOptions Rescoring => rescoring.Value;
    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        ExpectedVersion = Current.Version;
        if (DraftId is { } id)
        {
            if ((Editing = await drafts.FindAsync(id, ct)) is not { Published: false } draft) return NotFound();
            DraftName = draft.Name;
            Note = draft.Note;
            Rows = [.. PolicyCategories.Known(catalog).Select(c => new Row
            {
                Category = c, Review = (draft.Thresholds.GetValueOrDefault(c) ?? ModerationPolicy.Unlisted).Review,
                Reject = (draft.Thresholds.GetValueOrDefault(c) ?? ModerationPolicy.Unlisted).Reject,
            })];
        }
        else Rows = [.. PolicyCategories.Known(catalog).Select(c => new Row { Category = c, Review = Current.For(c).Review, Reject = Current.For(c).Reject })];
        return Page();
    }

    public async Task OnPostAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid)
        {
            await LoadAsync(ct);
            this.Refuse("Every threshold must be a number from 0 to 1.");
            return;
        }
        var result = await store.SaveAsync(Thresholds(), PolicyCategories.Known(catalog), ExpectedVersion, string.IsNullOrWhiteSpace(Note) ? null : Note.Trim(), User, ct);
        await LoadAsync(ct);
        switch (result)
        {
            case PolicyStore.Saved saved:
                Message = $"Saved as version {saved.Policy.Version}; every replica uses it now.";
                ExpectedVersion = saved.Policy.Version;
                Note = null;
                ModelState.Clear();
                break;
            case PolicyStore.Conflict conflict:
                this.Refuse($"Someone saved version {conflict.CurrentVersion} while you were editing. Your values are still below; reload to see theirs.", StatusCodes.Status409Conflict);
                break;
            case PolicyStore.Invalid invalid:
                foreach (var error in invalid.Errors) ModelState.AddModelError("", error);
                Response.StatusCode = StatusCodes.Status400BadRequest;
                break;
        }
    }

    /// <summary>Saves the form as a draft (the one it edits, or a new one): nothing is in force until it is published.</summary>
    public async Task OnPostDraftAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid)
        {
            await LoadAsync(ct);
            this.Refuse("Every threshold must be a number from 0 to 1.");
            return;
        }
        var note = string.IsNullOrWhiteSpace(Note) ? null : Note.Trim();
        var result = DraftId is { } id
            ? await drafts.UpdateAsync(id, DraftName, Thresholds(), note, PolicyCategories.Known(catalog), ct)
            : await drafts.CreateAsync(DraftName, Thresholds(), note, PolicyCategories.Known(catalog), User, ct);
        await LoadAsync(ct);
        if (result is PolicyDrafts.Done done)
        {
            Editing = done.Draft;
            DraftId = done.Draft.Id;
            Message = $"Saved as draft \"{done.Draft.Name}\"; version {Current.Version} is still in force. Preview its impact or publish it below.";
            ModelState.Clear();
        }
        else RefuseDraft(result);
    }

    /// <summary>Starts an impact preview of a draft (or of the policy in force) with a registered version and opens its page.</summary>
    public async Task<IActionResult> OnPostPreviewAsync(Guid? previewDraft, CancellationToken ct)
    {
        PolicyDraft? draft = null;
        if (previewDraft is { } id && (draft = await drafts.FindAsync(id, ct)) is null)
        {
            await LoadAsync(ct);
            this.Refuse("That draft no longer exists.", StatusCodes.Status404NotFound);
            return Page();
        }
        var started = await runs.StartAsync(PreviewVersion ?? "", RescoringSources.All, "page", User.UserIdOrNull(), ct,
            new RescoringRuns.PreviewTerms(draft, PreviewDays ?? Rescoring.PreviewDays));
        if (started.Run is { } run) return RedirectToPage("/Admin/Ml/Rescoring/Run", new { number = run.Number });
        await LoadAsync(ct);
        this.Refuse(started.Error!);
        return Page();
    }

    public async Task OnPostPublishAsync(Guid publishDraft, CancellationToken ct)
    {
        var result = await drafts.PublishAsync(publishDraft, ExpectedVersion, PolicyCategories.Known(catalog), User, ct);
        await LoadAsync(ct);
        ExpectedVersion = Current.Version;
        if (result is PolicyDrafts.Done done)
        {
            Message = $"Draft \"{done.Draft.Name}\" is published as version {done.Draft.PublishedAs}; every replica uses it now.";
            ModelState.Clear();
        }
        else RefuseDraft(result);
    }

    public async Task OnPostDeleteDraftAsync(Guid deleteDraft, CancellationToken ct)
    {
        var result = await drafts.DeleteAsync(deleteDraft, ct);
        await LoadAsync(ct);
        if (result is PolicyDrafts.Done done) Message = $"Draft \"{done.Draft.Name}\" is deleted.";
        else RefuseDraft(result);
    }

    void RefuseDraft(PolicyDrafts.Result result)
    {
        switch (result)
        {
            case PolicyDrafts.Invalid invalid:
                foreach (var error in invalid.Errors) ModelState.AddModelError("", error);
                Response.StatusCode = StatusCodes.Status400BadRequest;
                break;
            case PolicyDrafts.NotFound:
                this.Refuse("That draft no longer exists.", StatusCodes.Status404NotFound);
                break;
            case PolicyDrafts.AlreadyPublished published:
                this.Refuse($"That draft was published as version {published.Version}; it cannot change or be published again.", StatusCodes.Status409Conflict);
                break;
            case PolicyDrafts.Conflict conflict:
                this.Refuse($"Version {conflict.CurrentVersion} came into force since this page was loaded. Preview the draft against it again, then publish.",
                    StatusCodes.Status409Conflict);
                break;
        }
    }

    Dictionary<string, Thresholds> Thresholds()
    {
        var thresholds = new Dictionary<string, Thresholds>();
        foreach (var row in Rows) thresholds[row.Category] = new Thresholds(row.Review, row.Reject);
        return thresholds;
    }

    async Task LoadAsync(CancellationToken ct)
    {
        Current = await store.CurrentAsync(ct);
        History = await store.HistoryAsync(20, ct);
        Drafts = await drafts.ListAsync(50, ct);
        Versions = [.. (await registry.ListAsync(ct)).OrderByDescending(v => v.Number)];
        Production = (await registry.ProductionAsync(ct))?.Number;
        PreviewVersion ??= Production is { } p ? $"v{p}" : null;
        if (DraftId is { } id && Editing is null) Editing = Drafts.FirstOrDefault(d => d.Id == id);
    }
}
