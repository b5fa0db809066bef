// Sample namespaces for DependencyTests: each uses Salient.Tests.Architecture.Samples.Beta in one way only.
namespace Salient.Tests.Architecture.Samples.Beta
{
    public sealed class Thing
    {
        public static int Value() => 42;
    }
}

namespace Salient.Tests.Architecture.Samples.Body
{
    public static class UsesBetaInBody
    {
        public static int Run() => 1 + Beta.Thing.Value();
    }
}

namespace Salient.Tests.Architecture.Samples.Lambda
{
    public static class UsesBetaInALambda
    {
        public static Func<int> Make(int k) => () => k + Beta.Thing.Value();
    }
}

namespace Salient.Tests.Architecture.Samples.Iterator
{
    public static class UsesBetaInAnIterator
    {
        public static IEnumerable<int> Values()
        {
            yield return 1;
            yield return Beta.Thing.Value();
        }
    }
}

namespace Salient.Tests.Architecture.Samples.Signature
{
    public static class UsesBetaInASignature
    {
        public static string Name(Beta.Thing[]? things) => things is null ? "none" : "some";
    }
}

namespace Salient.Tests.Architecture.Samples.Gamma
{
    public static class UsesBetaByToken
    {
        public static string Name() => typeof(Beta.Thing).Name;
    }
}
