namespace BirbalAI.IntegrationTests;

/// <summary>
/// Two instances of one deployment (same database, broker prefix and Redis prefix): the base of a test class (two
/// replicas per test) or of a class fixture (two replicas for the class). Settings go on each in an override of
/// <see cref="InitializeAsync"/>, after the base's, before either starts.
/// </summary>
public abstract class TwoReplicas : IAsyncLifetime
{
    public App First { get; } = new();
    public App Second { get; private set; } = null!;

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
