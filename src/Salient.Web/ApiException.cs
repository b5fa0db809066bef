namespace Salient.Web;

/// <summary>A request the server refuses: an HTTP status and one line for the client (`{"error": "..."}`).</summary>
internal sealed class ApiException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
