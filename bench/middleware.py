"""Bench-only middleware: the number of SQL queries of each request, as a response header."""

from django.db import connection

HEADER = "X-Bench-Queries"


def query_count(get_response):
    def middleware(request):
        count = 0

        def counting(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counting):
            response = get_response(request)
        response[HEADER] = str(count)
        return response

    return middleware
