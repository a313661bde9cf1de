import type { DeliveryBatch } from '../connector.js';
import { piece, SpoolFile, type SpoolLayout, type SpoolPiece } from './row-spool.js';

/**
 * Writes a batch's value lines (one JSON array per row, see `value-lines.ts`) to spool files as
 * they come, a new file at every part or piece boundary, without parsing them: DuckDB's JSON
 * reader does that. The fast path for delimited formats, whose columns are all text.
 */
export async function spoolLines(
  batch: DeliveryBatch,
  dir: string,
  layout: SpoolLayout,
  signal?: AbortSignal,
): Promise<SpoolPiece[]> {
  const pieces: SpoolPiece[] = [];
  let partRows = 0;
  let current = piece(dir, 0, 0, 'lines');
  let file = await SpoolFile.open(current.path);
  try {
    for await (const chunk of batch.lines()) {
      signal?.throwIfAborted();
      let rest = chunk;
      while (rest.length > 0) {
        if (partRows === layout.rowsPerPart || current.rows === layout.rowsPerPiece) {
          await file.close('');
          pieces.push(current);
          await layout.onPiece?.(current);
          const newPart = partRows === layout.rowsPerPart;
          if (newPart) partRows = 0;
          current = newPart
            ? piece(dir, current.part + 1, 0, 'lines')
            : piece(dir, current.part, current.index + 1, 'lines');
          file = await SpoolFile.open(current.path);
        }
        const room = Math.min(layout.rowsPerPart - partRows, layout.rowsPerPiece - current.rows);
        const { end, rows } = afterLines(rest, room);
        await file.write(end === rest.length ? rest : rest.slice(0, end));
        rest = rest.slice(end);
        current.rows += rows;
        partRows += rows;
      }
    }
    await file.close('');
    pieces.push(current);
    await layout.onPiece?.(current);
  } finally {
    await file.abandon();
  }
  return pieces;
}

/** Where the first `max` lines of `text` end, and how many lines that is. */
function afterLines(text: string, max: number): { end: number; rows: number } {
  let end = 0;
  let rows = 0;
  while (rows < max && end < text.length) {
    const newline = text.indexOf('\n', end);
    end = newline === -1 ? text.length : newline + 1;
    rows += 1;
  }
  return { end, rows };
}
