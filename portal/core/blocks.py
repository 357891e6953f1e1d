"""StreamField blocks shared by every section's body. Each renders through
templates/blocks/<name>.html."""

from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("标题文字"), max_length=120)
    level = blocks.ChoiceBlock(
        label=_("级别"),
        choices=[("h2", _("二级标题")), ("h3", _("三级标题"))],
        default="h2",
    )

    class Meta:
        icon = "title"
        label = _("小标题")
        template = "blocks/heading_block.html"


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("图片"))
    alt_text = blocks.CharBlock(
        label=_("替代文字"),
        required=False,
        help_text=_("为看不到图片的读者描述图片内容;留空则使用图片库中的描述。"),
    )
    caption = blocks.CharBlock(label=_("图片说明"), required=False)

    class Meta:
        icon = "image"
        label = _("图片")
        template = "blocks/captioned_image_block.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("引文"))
    attribution = blocks.CharBlock(label=_("出处"), required=False)

    class Meta:
        icon = "openquote"
        label = _("引用")
        template = "blocks/quote_block.html"


class DocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("文件"))
    title = blocks.CharBlock(
        label=_("显示名称"), required=False, help_text=_("留空则使用文件标题。")
    )

    class Meta:
        icon = "doc-full"
        label = _("文件下载")
        template = "blocks/document_block.html"


class ExternalEmbedBlock(EmbedBlock):
    """Rendered as a plain link: the site loads nothing from third-party hosts."""

    class Meta:
        icon = "media"
        label = _("外部内容链接")
        template = "blocks/embed_block.html"


class BodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        label=_("段落"),
        icon="pilcrow",
        features=["bold", "italic", "link", "ol", "ul", "document-link"],
        template="blocks/paragraph_block.html",
    )
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    table = TableBlock(
        label=_("表格"),
        template="blocks/table_block.html",
        table_options={"language": "zh-CN"},
    )
    document = DocumentBlock()
    embed = ExternalEmbedBlock()


def stream_text(stream_value):
    """The readable text of a body stream, for search indexing and summaries."""
    parts = []
    for block in stream_value or []:
        value = block.value
        if block.block_type == "paragraph":
            parts.append(strip_tags(value.source))
        elif block.block_type == "heading":
            parts.append(value["text"])
        elif block.block_type == "quote":
            parts.extend([value["text"], value["attribution"]])
        elif block.block_type == "image":
            parts.append(value["caption"])
        elif block.block_type == "table":
            parts.extend(str(cell) for row in value.get("data") or [] for cell in row if cell)
        elif block.block_type == "document":
            parts.append(value["title"] or value["document"].title)
    return " ".join(part for part in parts if part)
