/* book_order: the order staging lists its names in (services/staging/stage.c and
 * strategy.c), as the CLI sees them from outside: stages in the book's order and contact
 * channels in the strategy's. The table shows a roll matrix in it (render_text.c) and the
 * shards' reports are merged into it (merge.c), so both read as one staging's report. */
#ifndef ARREARS_BOOK_ORDER_H
#define ARREARS_BOOK_ORDER_H

/* The place of a stage name (current .. written_off) or a channel name (sms .. visit,
 * then "none": payments no contact earned); a name staging does not use comes last. */
int book_stage_rank(const char *name);
int book_channel_rank(const char *name);

#endif
