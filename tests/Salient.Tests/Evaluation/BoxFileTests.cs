using Salient.Cli.Commands;
using Salient.Evaluation;
using Salient.Tests.Cli;
using Xunit;

namespace Salient.Tests.Evaluation;

/// <summary>Boxes from the simple JSON list, Pascal VOC XML (file or folder) and COCO JSON, on tiny hand-written files.</summary>
public class BoxFileTests
{
    // The fixture's labels: zero, one, …, nine.
    private static Models.SalientModel Load() => TestPaths.Load(TestPaths.Fixture("models", "mnv2_gap.onnx"));

    private static string Write(string dir, string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Voc = """
        <annotation>
          <folder>VOC2012</folder>
          <filename>a.jpg</filename>
          <size><width>100</width><height>80</height><depth>3</depth></size>
          <object><name>three</name><pose>Left</pose><bndbox><xmin>11</xmin><ymin>21</ymin><xmax>40</xmax><ymax>60</ymax></bndbox></object>
          <object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
          <object><name>seven</name><bndbox><xmin>1.5</xmin><ymin>2</ymin><xmax>100</xmax><ymax>80</ymax></bndbox></object>
        </annotation>
        """;

    [Fact]
    public void Pascal_voc_file_and_folder_one_based_inclusive_pixels_unknown_names_warned()
    {
        using var model = Load();
        var dir = CliRunner.TempDir();
        var file = Write(dir, "a.xml", Voc);
        Write(dir, "b.xml", Voc.Replace("a.jpg", "b.jpg"));
        var warnings = new List<string>();
        var boxes = BoxFile.Read(file, model, warnings.Add);
        Assert.Equal(2, boxes.Count);
        Assert.Equal(new BoxFile.Entry("a.jpg", 3, new Box(10, 20, 40, 60)), boxes[0]);
        Assert.Equal(new BoxFile.Entry("a.jpg", 7, new Box(0.5, 1, 100, 80)), boxes[1]);
        Assert.Single(warnings);
        Assert.Contains("'cat'", warnings[0]);

        var all = BoxFile.Read(dir, model, warnings.Add);
        Assert.Equal(["a.jpg", "a.jpg", "b.jpg", "b.jpg"], all.Select(b => b.Image));

        var bad = Write(CliRunner.TempDir(), "bad.xml", Voc.Replace("<xmax>40</xmax>", "<xmax>5</xmax>"));
        var e = Assert.Throws<SalientException>(() => BoxFile.Read(bad, model));
        Assert.Contains("object 0", e.Message);
        Assert.Throws<SalientException>(() => BoxFile.Read(CliRunner.TempDir(), model)); // a folder without .xml
    }

    [Fact]
    public void Coco_json_bbox_is_x_y_width_height_and_categories_match_labels()
    {
        using var model = Load();
        var dir = CliRunner.TempDir();
        var path = Write(dir, "coco.json", """
            {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}, {"id": 2, "file_name": "b.png", "width": 10, "height": 10}],
             "annotations": [{"id": 10, "image_id": 1, "category_id": 4, "bbox": [10, 20, 30, 40], "area": 1200, "iscrowd": 0},
                             {"id": 11, "image_id": 2, "category_id": 5, "bbox": [0, 0, 5, 5]},
                             {"id": 12, "image_id": 2, "category_id": 4, "bbox": [1.5, 2.5, 3, 4]}],
             "categories": [{"id": 4, "name": "two", "supercategory": "digit"}, {"id": 5, "name": "dog"}]}
            """);
        var warnings = new List<string>();
        var boxes = BoxFile.Read(path, model, warnings.Add);
        Assert.Equal([new BoxFile.Entry("a.jpg", 2, new Box(10, 20, 40, 60)), new BoxFile.Entry("b.png", 2, new Box(1.5, 2.5, 4.5, 6.5))], boxes);
        Assert.Contains("'dog'", Assert.Single(warnings));

        var missing = Write(dir, "bad.json", """{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 9, "category_id": 4, "bbox": [0, 0, 1, 1]}], "categories": [{"id": 4, "name": "two"}]}""");
        Assert.Contains("annotation 0", Assert.Throws<SalientException>(() => BoxFile.Read(missing, model)).Message);

        // The simple list still works.
        var simple = Write(dir, "simple.json", """[{"image": "a.jpg", "class": "nine", "box": [1, 2, 3, 4]}]""");
        Assert.Equal([new BoxFile.Entry("a.jpg", 9, new Box(1, 2, 3, 4))], BoxFile.Read(simple, model));
    }
}
