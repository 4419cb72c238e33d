using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Registry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Ml.Pages.Admin.Ml.Models;

[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(ModelRegistry registry) : PageModel
{
    public IReadOnlyList<ModelVersion> Versions { get; private set; } = [];
    public ModelVersion? Production { get; private set; }
    public Guid? ProductionId => Production?.Id;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Versions = await registry.ListAsync(ct);
        Production = await registry.ProductionAsync(ct);
    }
}
