using System.Net;
using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Annotation;

/// <summary>The review workspace's pages through HTTP: what an annotator sees, and who is kept out.</summary>
public sealed class AnnotationPagesTests(App app) : IClassFixture<App>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_labelling_page_has_a_key_per_category_the_guidelines_sanitised_and_the_reviewers_hiding_setting()
    {
        var annotator = await Accounts.SignedInAsync(app, Roles.Annotator);

        var page = await annotator.GetDocumentAsync($"/annotation/projects/{ProjectAccess.ModerationId}/label");

        var buttons = page.QuerySelectorAll("button.category").Select(b => (b.GetAttribute("data-category"), b.QuerySelector("kbd")!.TextContent)).ToList();
        Assert.Equal(13, buttons.Count);
        Assert.Equal(("harassment", "1"), buttons[0]);
        Assert.Equal(("violence/graphic", "c"), buttons[12]);
        Assert.Contains("⚠", page.QuerySelector("button.category[data-category='sexual/minors']")!.TextContent);   // severe
        Assert.NotNull(page.QuerySelector("#guidelines table"));                       // LABELLING.md's category table
        Assert.Null(page.QuerySelector("#guidelines script"));
        Assert.Equal("blur", page.QuerySelector("#labelling")!.GetAttribute("data-hiding"));

        var saved = await annotator.SubmitAsync(page, "#hiding-form", new Dictionary<string, string> { ["hiding"] = "greyscale" },
            pageUrl: $"/annotation/projects/{ProjectAccess.ModerationId}/label");
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var again = await annotator.GetDocumentAsync($"/annotation/projects/{ProjectAccess.ModerationId}/label");
        Assert.Equal("greyscale", again.QuerySelector("#labelling")!.GetAttribute("data-hiding"));
    }

    [Fact]
    public async Task Members_do_not_reach_the_workspace_and_an_unknown_project_is_not_found()
    {
        var member = await Accounts.SignedInAsync(app, Roles.Member);
        var annotator = await Accounts.SignedInAsync(app, Roles.Annotator);

        var denied = await member.GetAsync($"/annotation/projects/{ProjectAccess.ModerationId}/label", Ct);
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        var location = denied.Headers.Location!;
        Assert.StartsWith("/account/denied", location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, (await annotator.GetAsync($"/annotation/projects/{Guid.CreateVersion7()}/label", Ct)).StatusCode);
        var list = await annotator.GetDocumentAsync("/annotation");
        Assert.Contains("Moderation review", list.QuerySelector("#projects")!.TextContent);
    }
}
