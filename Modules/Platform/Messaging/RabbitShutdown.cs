using Microsoft.Extensions.Logging;
using RabbitMQ.Client.Exceptions;

namespace BirbalAI.Platform.Messaging;

/// <summary>
/// Bounds the client's close and dispose calls on the way down. RabbitMQ.Client 7 can wait for ever in a dispose that
/// follows a close which timed out (rabbitmq-dotnet-client #1757) and in a close whose consumer dispatcher never drains
/// (#1751). A stopping process must hang on neither: a step that does not finish in time is abandoned, and the broker
/// requeues whatever was unacknowledged when the socket goes.
/// </summary>
public static class RabbitShutdown
{
    /// <summary>How long one close or dispose may take before it is abandoned.</summary>
    public static readonly TimeSpan StepLimit = TimeSpan.FromSeconds(10);

    /// <summary>Runs one step of a shutdown; false when it failed, was cancelled or did not finish within <paramref name="limit"/>.</summary>
    public static async Task<bool> WithinAsync(Func<Task> step, ILogger logger, string what, TimeSpan? limit = null)
    {
        var within = limit ?? StepLimit;
        try
        {
            await step().WaitAsync(within);
            return true;
        }
        catch (TimeoutException)
        {
            logger.LogWarning("{What} did not finish within {Seconds} s; abandoned", what, within.TotalSeconds);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or AlreadyClosedException
                                      or OperationInterruptedException)
        {
            logger.LogWarning("{What} ended early ({Reason}); going on", what, e.GetType().Name);
        }
        return false;
    }
}
