using Microsoft.AspNetCore.Http;
using Salient.Imaging;

namespace Salient.Web;

/// <summary>
/// The image of a request: the multipart field <c>image</c> (decoded from memory: the form is buffered
/// in memory up to the body limit, nothing is written to disk) or <c>folderImage</c>, the name of an
/// image of the server's folder. Every failure is an <see cref="ApiException"/> with a 4xx status.
/// </summary>
internal static class Uploads
{
    public const string Field = "image";
    public const string FolderField = "folderImage";

    /// <summary>The request's form (query values are read by <see cref="Value"/> too).</summary>
    public static async Task<IFormCollection> ReadForm(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasFormContentType)
            throw new ApiException(415, $"send the image as multipart/form-data with the field `{Field}` (got content type '{request.ContentType ?? "none"}')");
        return await request.ReadFormAsync(ct);
    }

    /// <summary>A form field, else the query parameter of the same name, else null.</summary>
    public static string? Value(HttpRequest request, IFormCollection? form, string name)
    {
        if (form is not null && form.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v.ToString())) return v.ToString();
        return request.Query.TryGetValue(name, out var q) && !string.IsNullOrEmpty(q.ToString()) ? q.ToString() : null;
    }

    /// <summary>Decodes the request's image with the server's pixel limit (and the model's, if lower).</summary>
    public static async Task<RgbImage> ReadImage(IFormCollection form, ImageFolder folder, long maxPixels, CancellationToken ct)
    {
        var file = form.Files.GetFile(Field);
        if (file is null)
        {
            if (form.TryGetValue(FolderField, out var name) && !string.IsNullOrEmpty(name.ToString()))
                return ImageLoader.Load(folder.Resolve(name.ToString()), new ImageLoadOptions { MaxPixels = maxPixels });
            if (form.TryGetValue(Field, out _))
                throw new ApiException(400, $"the field `{Field}` must be a file part (with a filename), not a text value");
            throw new ApiException(400, $"the form has no `{Field}` file (nor `{FolderField}`, the name of an image of the server's folder)");
        }
        if (file.Length == 0) throw new ApiException(400, $"the uploaded `{Field}` is empty");
        var bytes = new byte[file.Length];
        await using (var s = file.OpenReadStream())
            await s.ReadExactlyAsync(bytes, ct);
        string label = string.IsNullOrWhiteSpace(file.FileName) ? "upload" : Path.GetFileName(file.FileName);
        return ImageLoader.Decode(bytes, label, new ImageLoadOptions { MaxPixels = maxPixels });
    }
}
