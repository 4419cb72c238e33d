namespace BirbalAI.IntegrationTests;

/// <summary>Two instances of one deployment (same database, broker prefix and Redis prefix), for one test class.</summary>
public abstract class TwoReplicas : IAsyncLifetime
{
    protected App First { get; } = new();
    protected App Second { get; private set; } = null!;

    public virtual async ValueTask InitializeAsync()
    {
        await First.InitializeAsync();
        Second = App.ReplicaOf(First);
    }

    public async ValueTask DisposeAsync()
    {
        await Second.DisposeAsync();
        await First.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
