namespace Console.Web.Tests.Fixtures;

/// <summary>Waits on a condition (never a fixed sleep): polls until it holds or the timeout passes.</summary>
public static class Eventually
{
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met within {timeout}; last value: {value}");
            }

            await Task.Delay(100);
        }
    }
}
